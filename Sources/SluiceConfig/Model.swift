/// The typed configuration model. Every field has the default that `sluice.example.yaml`
/// documents beside its key; `ConfigLoader` fills these from YAML or JSON.
/// Pure values: no I/O, no NIO, so every layer may hold them.

public struct SluiceConfig: Sendable, Equatable {
    public var listeners: [ListenerConfig]
    public var clusters: [ClusterConfig]
    public var routes: [RouteConfig]
    public var limits: Limits
    public var timeouts: Timeouts
    public var headers: HeaderPolicy
    public var accessLog: AccessLogConfig
    /// Key `rate_limits`: named policies, applied by `routes[].rate_limits`.
    public var rateLimits: [RateLimitPolicy] = []
    /// Key `jwt`: verification keys for `jwt_claim:` rate-limit keys.
    public var jwt: JWTConfig = JWTConfig()
    /// Key `regions`: the source of the `region` rate-limit key.
    public var regions: RegionConfig = RegionConfig()
    /// Key `access`: peer networks allowed or refused at accept.
    public var access: AccessConfig = AccessConfig()
    /// Key `admin`: the operators' listener.
    public var admin: AdminConfig = AdminConfig()
    /// Key `log`: level and format of Sluice's own log lines.
    public var log: LogConfig = LogConfig()
    /// Key `reload`: the file watch and the drain of removed routes.
    public var reload: ReloadConfig = ReloadConfig()
    /// Key `cache`: the shared HTTP cache, used by routes with a `cache` block.
    public var cache: CacheConfig = CacheConfig()
    /// Key `user`, default none: started as root (to bind ports below 1024), Sluice switches to
    /// this user and its groups once every listener is bound, as nginx's `user`.
    public var user: String?
    /// Number of event loops (threads); `0` means one per core. Key: `event_loops`, default 0.
    public var eventLoops: Int

    public init(
        listeners: [ListenerConfig] = [ListenerConfig()],
        clusters: [ClusterConfig] = [],
        routes: [RouteConfig] = [],
        limits: Limits = Limits(),
        timeouts: Timeouts = Timeouts(),
        headers: HeaderPolicy = HeaderPolicy(),
        accessLog: AccessLogConfig = AccessLogConfig(),
        eventLoops: Int = 0
    ) {
        self.listeners = listeners
        self.clusters = clusters
        self.routes = routes
        self.limits = limits
        self.timeouts = timeouts
        self.headers = headers
        self.accessLog = accessLog
        self.eventLoops = eventLoops
    }
}

public struct ListenerConfig: Sendable, Equatable {
    /// Key `name`, default `listener-<index>`.
    public var name: String
    /// Key `address`, default `0.0.0.0`.
    public var address: String
    /// Key `port`, default 8080; 0 asks the OS for a free port.
    public var port: Int
    /// Key `tls`: nil (absent) = plain HTTP.
    public var tls: ListenerTLSConfig?
    /// Key `https_redirect`: nil (absent) = requests are proxied; set = every request is
    /// redirected to HTTPS (only on a listener without `tls`).
    public var httpsRedirect: HTTPSRedirectConfig?
    /// Key `forward_proxy`: nil (absent) = a reverse proxy by the routes; set = a forward
    /// proxy, routes unused.
    public var forwardProxy: ForwardProxyConfig?
    /// Key `http2`.
    public var http2 = HTTP2Config()

    public init(name: String = "listener-0", address: String = "0.0.0.0", port: Int = 8080,
                tls: ListenerTLSConfig? = nil, httpsRedirect: HTTPSRedirectConfig? = nil) {
        self.name = name
        self.address = address
        self.port = port
        self.tls = tls
        self.httpsRedirect = httpsRedirect
    }
}

public struct RouteMatch: Sendable, Equatable {
    /// Key `host`: exact (`api.example.com`) or leading wildcard (`*.example.com`); nil = any host.
    public var host: String?
    /// Key `path_prefix`, default `/`.
    public var pathPrefix: String
    /// Key `method`: nil = any method.
    public var method: String?

    public init(host: String? = nil, pathPrefix: String = "/", method: String? = nil) {
        self.host = host
        self.pathPrefix = pathPrefix
        self.method = method
    }
}

public struct RouteConfig: Sendable, Equatable {
    /// Key `name`, default `route-<index>`.
    public var name: String
    /// Key `match`.
    public var match: RouteMatch
    /// Key `cluster`. Required; must name a cluster.
    public var cluster: String
    /// Key `limits`: per-route overrides; nil fields inherit the global value.
    public var limits: RouteLimits
    /// Key `timeouts`: per-route overrides of the upstream timeouts.
    public var timeouts: RouteTimeouts
    /// Key `hedge`: nil (absent) = no hedging.
    public var hedge: HedgeConfig?
    /// Key `rate_limits`: names of `rate_limits` policies; a request must pass them all.
    public var rateLimits: [String] = []
    /// Key `slo`: the route's objectives, reported by the admin listener's /slo.
    public var slo = RouteSLO()
    /// Key `cache`: nil (absent) = the route's responses are never cached.
    public var cache: RouteCacheConfig?
    /// Key `websocket`, default true: `Upgrade: websocket` requests become relayed tunnels;
    /// false forwards them as plain requests (the upgrade is dropped, as for any other token).
    public var websocket = true

    public init(
        name: String = "route-0",
        match: RouteMatch = RouteMatch(),
        cluster: String,
        limits: RouteLimits = RouteLimits(),
        timeouts: RouteTimeouts = RouteTimeouts(),
        hedge: HedgeConfig? = nil,
        rateLimits: [String] = []
    ) {
        self.name = name
        self.match = match
        self.cluster = cluster
        self.limits = limits
        self.timeouts = timeouts
        self.hedge = hedge
        self.rateLimits = rateLimits
    }
}

/// Global limits. Byte sizes accept `16384`, `16KiB`, `1MiB`, `1GiB`.
public struct Limits: Sendable, Equatable {
    /// Key `max_connections`: concurrent client connections, default 10000.
    public var maxConnections: Int
    /// Key `max_header_bytes`: request line + header names and values, default 32KiB (431 past it).
    public var maxHeaderBytes: Int
    /// Key `max_header_count`: request header fields, default 100 (431 past it).
    public var maxHeaderCount: Int
    /// Key `max_uri_bytes`: request-target length, default 8KiB (414 past it).
    public var maxURIBytes: Int
    /// Key `max_body_bytes`: request body, default 100MiB (413 past it); 0 = no limit.
    public var maxBodyBytes: Int
    /// Key `max_connections_per_ip`: concurrent connections from one peer address, default 0
    /// = no limit (a NAT or an upstream load balancer can put many clients behind one address).
    public var maxConnectionsPerIP: Int
    /// Key `accept_rate_per_ip`: new connections per second from one peer address (bursts up
    /// to the same number), default 0 = no limit.
    public var acceptRatePerIP: Int
    /// Key `max_requests_per_connection`: after this many requests the connection closes,
    /// default 1000 (nginx's keepalive_requests); 0 = no limit.
    public var maxRequestsPerConnection: Int

    public init(
        maxConnections: Int = 10_000,
        maxHeaderBytes: Int = 32 * 1024,
        maxHeaderCount: Int = 100,
        maxURIBytes: Int = 8 * 1024,
        maxBodyBytes: Int = 100 * 1024 * 1024,
        maxConnectionsPerIP: Int = 0,
        acceptRatePerIP: Int = 0,
        maxRequestsPerConnection: Int = 1000
    ) {
        self.maxConnections = maxConnections
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxURIBytes = maxURIBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.acceptRatePerIP = acceptRatePerIP
        self.maxRequestsPerConnection = maxRequestsPerConnection
    }
}

/// Per-route limit overrides (only the request-level limits can vary by route).
public struct RouteLimits: Sendable, Equatable {
    public var maxBodyBytes: Int?
    public init(maxBodyBytes: Int? = nil) { self.maxBodyBytes = maxBodyBytes }
}

/// Global timeouts. Durations accept `250ms`, `5s`, `2m`, `1h`.
public struct Timeouts: Sendable, Equatable {
    /// Key `client_header`: from connection start (or first byte of a keep-alive request) to a
    /// complete request head, default 10s; answered 408 and closed (slowloris defence).
    public var clientHeader: Duration
    /// Key `client_idle`: keep-alive connection with no request, default 60s; closed.
    public var clientIdle: Duration
    /// Key `client_park`: a keep-alive connection idle this long gives back its request
    /// decoder (about 1.4 KiB), rebuilt at its next byte; default 1s, 0 = never.
    public var clientPark: Duration = .seconds(1)
    /// Key `client_body`: gap between reads of a request body, default 60s (408), as nginx's
    /// client_body_timeout.
    public var clientBody: Duration
    /// Key `client_send`: how long a client may leave Sluice unable to write to it (its
    /// socket full) before the exchange is cut, default 60s (slow-read defence, as nginx's
    /// send_timeout).
    public var clientSend: Duration
    /// Key `upstream_connect`, default 5s (504).
    public var upstreamConnect: Duration
    /// Key `upstream_header`: request sent to response head received, default 60s (504).
    public var upstreamHeader: Duration
    /// Key `upstream_idle`: gap between reads of the response body, default 60s.
    public var upstreamIdle: Duration
    /// Key `drain`: on SIGTERM/SIGINT, how long in-flight requests may take, default 30s.
    public var drain: Duration
    /// Key `tunnel_idle`: an upgraded connection (WebSocket) with no byte either way for this
    /// long is closed, default 1h (as HAProxy's `timeout tunnel` is usually set).
    public var tunnelIdle: Duration = .seconds(3600)
    /// Key `stream`: the longest a response may take in all, from the request to its last
    /// byte, default 0 = no limit (a long poll or an event stream then lives while bytes keep
    /// coming within upstream_idle). Past it the response is cut: the client reconnects.
    public var stream: Duration = .zero

    public init(
        clientHeader: Duration = .seconds(10),
        clientIdle: Duration = .seconds(60),
        clientBody: Duration = .seconds(60),
        clientSend: Duration = .seconds(60),
        upstreamConnect: Duration = .seconds(5),
        upstreamHeader: Duration = .seconds(60),
        upstreamIdle: Duration = .seconds(60),
        drain: Duration = .seconds(30)
    ) {
        self.clientHeader = clientHeader
        self.clientIdle = clientIdle
        self.clientBody = clientBody
        self.clientSend = clientSend
        self.upstreamConnect = upstreamConnect
        self.upstreamHeader = upstreamHeader
        self.upstreamIdle = upstreamIdle
        self.drain = drain
    }
}

/// Per-route overrides of the upstream timeouts; nil inherits the global value.
public struct RouteTimeouts: Sendable, Equatable {
    public var upstreamConnect: Duration?
    public var upstreamHeader: Duration?
    public var upstreamIdle: Duration?
    public var tunnelIdle: Duration?
    public var stream: Duration?

    public init(upstreamConnect: Duration? = nil, upstreamHeader: Duration? = nil, upstreamIdle: Duration? = nil) {
        self.upstreamConnect = upstreamConnect
        self.upstreamHeader = upstreamHeader
        self.upstreamIdle = upstreamIdle
    }
}

public struct HeaderPolicy: Sendable, Equatable {
    /// Key `trusted_proxies`: CIDRs whose X-Forwarded-* / Forwarded values are kept and appended
    /// to; from any other peer those headers are replaced. Default empty (trust nobody).
    public var trustedProxies: [CIDR]
    /// Key `request_id`: header carrying the request id, generated when absent, default `X-Request-Id`.
    public var requestID: String
    /// Key `via`: pseudonym in the `Via` header, default `sluice`; empty string disables Via.
    public var via: String

    public init(trustedProxies: [CIDR] = [], requestID: String = "X-Request-Id", via: String = "sluice") {
        self.trustedProxies = trustedProxies
        self.requestID = requestID
        self.via = via
    }
}

public enum AccessLogFormat: String, Sendable, Equatable, CaseIterable {
    case json
    case plain
}

public struct AccessLogConfig: Sendable, Equatable {
    /// Key `enabled`, default true.
    public var enabled: Bool
    /// Key `format`: `json` (one object per line) or `plain` (combined-log style), default json.
    public var format: AccessLogFormat

    public init(enabled: Bool = true, format: AccessLogFormat = .json) {
        self.enabled = enabled
        self.format = format
    }
}
