import SluiceLimits

/// One part of a rate-limit key; a policy's key joins its parts, so `[client_ip, route]`
/// limits each client on each route separately.
public enum LimitKeyPart: Sendable, Equatable, CustomStringConvertible {
    /// The client address after `trusted_proxies` resolution; IPv6 grouped by `ipv6_prefix`.
    case clientIP
    /// A request header's value (an API key, a user id); an absent header is its own key.
    case header(String)
    /// A claim of the bearer JWT, verified with the keys under `jwt`.
    case jwtClaim(String)
    /// The matched route's name.
    case route
    case method
    /// The client's region (`regions`): a trusted edge's header, else the CIDR table.
    case region

    /// The config spelling: `client_ip`, `header:X-API-Key`, `jwt_claim:sub`, `route`, `method`, `region`.
    public var description: String {
        switch self {
        case .clientIP: "client_ip"
        case .header(let name): "header:\(name)"
        case .jwtClaim(let name): "jwt_claim:\(name)"
        case .route: "route"
        case .method: "method"
        case .region: "region"
        }
    }
}

/// Where a policy keeps its counts.
public enum LimitStore: Sendable, Equatable {
    /// In this process: each instance limits on its own.
    case local
    /// Shared by every instance using the same Redis (`redis://[user:password@]host:port/db`).
    case redis(url: String)
}

/// What a request gets when the shared store cannot be reached in time.
public enum StoreErrorAction: String, Sendable, Equatable, CaseIterable {
    case allow, deny
}

/// One entry of `rate_limits`, named by `routes[].rate_limits`.
public struct RateLimitPolicy: Sendable, Equatable {
    public var name: String
    /// Key `algorithm`, default `token_bucket`.
    public var algorithm: RateAlgorithm = .tokenBucket
    /// Key `tiers`: 1 to 4, all must pass.
    public var tiers: [LimitTier] = []
    /// Key `key`, default `[client_ip]`.
    public var key: [LimitKeyPart] = [.clientIP]
    /// Key `ipv6_prefix`, default 64: IPv6 clients in one /64 share a key, as one host often
    /// owns the whole prefix.
    public var ipv6Prefix: Int = 64
    /// Key `store`, default `local`.
    public var store: LimitStore = .local
    /// Key `lease_size`, default 10: tokens an instance takes from Redis at once (global only).
    public var leaseSize: Int = 10
    /// Key `store_timeout`, default 50ms: the longest a request waits on Redis.
    public var storeTimeout: Duration = .milliseconds(50)
    /// Key `on_store_error`, default `allow`.
    public var onStoreError: StoreErrorAction = .allow
    /// Key `shadow`, default false: decide and count, log refusals, but never refuse.
    public var shadow: Bool = false
    /// Key `allow_cidrs`, default none: clients in these networks skip the policy.
    public var allowCIDRs: [CIDR] = []
    /// Key `status`, default 429.
    public var status: Int = 429
    /// Key `body`, default "rate limit exceeded".
    public var body: String = "rate limit exceeded"
    /// Key `max_keys`, default 1,000,000: tracked keys per instance before eviction.
    public var maxKeys: Int = 1_000_000
    /// Key `response_headers`, default true: RateLimit and RateLimit-Policy on every
    /// response of the routes using the policy, not only on refusals.
    public var responseHeaders: Bool = true

    public init(name: String) { self.name = name }
}

/// Key `jwt`: the keys that verify bearer tokens for `jwt_claim:` key parts.
public struct JWTConfig: Sendable, Equatable {
    public struct Key: Sendable, Equatable {
        /// `hs256`, `rs256` or `es256`.
        public var algorithm: String
        public var kid: String?
        /// HS256 only.
        public var secret: String?
        /// RS256/ES256: the public key's PEM text (read from `public_key_file`).
        public var publicKeyPEM: String?
        public var publicKeyFile: String?

        public init(algorithm: String, kid: String? = nil, secret: String? = nil, publicKeyPEM: String? = nil,
                    publicKeyFile: String? = nil) {
            self.algorithm = algorithm
            self.kid = kid
            self.secret = secret
            self.publicKeyPEM = publicKeyPEM
            self.publicKeyFile = publicKeyFile
        }
    }
    public var keys: [Key] = []
    public var issuer: String?
    public var audience: String?
    /// Key `leeway`, default 60s, as Envoy's jwt_authn allows for clock skew.
    public var leeway: Duration = .seconds(60)
    /// Key `timeout`, default 1s: the longest a request waits on the verification of a token
    /// not yet in the verdict cache; past it the request counts as having no valid token.
    public var timeout: Duration = .seconds(1)

    public init() {}
}

/// Key `regions`: where the `region` key part comes from.
public struct RegionConfig: Sendable, Equatable {
    /// Key `header`: set by a trusted edge; believed only from `trusted_proxies`.
    public var header: String?
    /// Key `table_file`: lines of `CIDR REGION`; `#` starts a comment.
    public var tableFile: String?
    /// The table read from `table_file`, longest prefix first.
    public var table: [(CIDR, String)] = []

    public init() {}

    public static func == (lhs: RegionConfig, rhs: RegionConfig) -> Bool {
        lhs.header == rhs.header && lhs.tableFile == rhs.tableFile
            && lhs.table.map(\.0) == rhs.table.map(\.0) && lhs.table.map(\.1) == rhs.table.map(\.1)
    }
}

/// Key `access`: networks refused at accept, before a byte is read.
public struct AccessConfig: Sendable, Equatable {
    /// Key `allow`, default none = every client; when set, only these networks connect.
    public var allow: [CIDR] = []
    /// Key `deny`, default none; checked first, so a denied network inside an allowed one is refused.
    public var deny: [CIDR] = []

    public init() {}
}

/// Key `admin`: the listener for operators (metrics, health, status), apart from traffic.
public struct AdminConfig: Sendable, Equatable {
    /// Key `enabled`, default true.
    public var enabled = true
    /// Key `address`, default 127.0.0.1: loopback, as Envoy's admin, so nothing outside the
    /// host reaches it unless asked.
    public var address = "127.0.0.1"
    /// Key `port`, default 9901 (Envoy's); 0 picks a free one.
    public var port = 9901
    /// Key `token`, default none: when set, every endpoint but /healthz and /readyz wants
    /// `Authorization: Bearer <token>` (use `${SLUICE_ADMIN_TOKEN}` to keep it out of the file).
    public var token: String?

    public init() {}
}

/// Key `routes[].slo`: an availability objective (a percentage of requests that are not 5xx)
/// and a latency objective (a percentage finished under a threshold), each optional.
public struct RouteSLO: Sendable, Equatable {
    /// Key `availability`, e.g. 99.9 (percent); nil = none.
    public var availability: Double?
    /// Key `latency.threshold`, e.g. 300ms; with `latency.percent` (e.g. 99).
    public var latencyThreshold: Duration?
    public var latencyPercent: Double?

    public init(availability: Double? = nil, latencyThreshold: Duration? = nil, latencyPercent: Double? = nil) {
        self.availability = availability
        self.latencyThreshold = latencyThreshold
        self.latencyPercent = latencyPercent
    }

    public var isEmpty: Bool { availability == nil && latencyThreshold == nil }
}

/// Key `log`: Sluice's own log lines (the access log has its own section).
public struct LogConfig: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable, CaseIterable {
        /// swift-log's default stream format, for people.
        case text
        /// One JSON object per line (time, level, label, message, metadata), for shippers.
        case json
    }

    /// Key `level`, default `info`: trace, debug, info, notice, warning, error or critical.
    public var level: String = "info"
    /// Key `format`, default `text`.
    public var format: Format = .text

    public init() {}
}

/// Key `reload`: how a running Sluice picks up a changed file. SIGHUP and `POST /reload` on
/// the admin listener always work; the watch is for files that change under it (a mounted
/// ConfigMap, a deploy tool).
public struct ReloadConfig: Sendable, Equatable {
    /// Key `watch`, default true: check the file (through any symlinks) every `watch_interval`.
    public var watch = true
    /// Key `watch_interval`, default 1s.
    public var watchInterval: Duration = .seconds(1)
    /// Key `drain_timeout`, default 30s: how long a request still running on a route that a
    /// reload removed may go on (a long poll, a stream) before it is ended.
    public var drainTimeout: Duration = .seconds(30)

    public init() {}
}
