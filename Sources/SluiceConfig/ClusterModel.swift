/// The `clusters` part of the model: backends, how one is picked, and how they are kept healthy.

public enum BalancerKind: String, Sendable, Equatable, CaseIterable {
    case roundRobin = "round_robin"
    case weightedRoundRobin = "weighted_round_robin"
    case random
    case weightedRandom = "weighted_random"
    case leastConnections = "least_connections"
    case powerOfTwo = "power_of_two"
    case peakEWMA = "peak_ewma"
    case ipHash = "ip_hash"
    case consistentHash = "consistent_hash"
    case rendezvous
    case maglev

    /// The strategies that map a request's hash key to a backend.
    public var usesHashKey: Bool {
        switch self {
        case .ipHash, .consistentHash, .rendezvous, .maglev: true
        default: false
        }
    }
}

/// One part of a request's affinity key; several parts are combined in order.
public enum HashKeyPart: Sendable, Equatable, CustomStringConvertible {
    /// The client's address after `trusted_proxies` resolution.
    case clientIP
    /// The request path, without the query.
    case path
    case header(String)
    case cookie(String)
    case query(String)

    /// The config spelling: `client_ip`, `path`, `header:X-User`, `cookie:session`, `query:id`.
    public var description: String {
        switch self {
        case .clientIP: "client_ip"
        case .path: "path"
        case .header(let name): "header:\(name)"
        case .cookie(let name): "cookie:\(name)"
        case .query(let name): "query:\(name)"
        }
    }
}

/// Key `hash`: settings of the hash strategies (`ip_hash` always keys on the client address).
public struct HashConfig: Sendable, Equatable {
    /// Key `key`, default `[client_ip]`.
    public var key: [HashKeyPart]
    /// Key `virtual_nodes`: points per unit of weight on the `consistent_hash` ring, default 160.
    public var virtualNodes: Int
    /// Key `maglev_table_size`: a prime, well above the backend count, default 65537.
    public var maglevTableSize: Int
    /// Key `balance_factor`: bounded loads (HAProxy `hash-balance-factor`): no backend takes more
    /// than ceil((1 + factor) × average) in-flight requests; default 0 = unbounded.
    public var balanceFactor: Double

    public init(key: [HashKeyPart] = [.clientIP], virtualNodes: Int = 160, maglevTableSize: Int = 65537, balanceFactor: Double = 0) {
        self.key = key
        self.virtualNodes = virtualNodes
        self.maglevTableSize = maglevTableSize
        self.balanceFactor = balanceFactor
    }
}

public struct BackendConfig: Sendable, Equatable {
    /// Key `address`: `host:port` (IPv6 as `[::1]:port`). Required.
    public var host: String
    public var port: Int
    /// Key `weight`, default 1, at least 1.
    public var weight: Int
    /// Key `drain`, default false: no new requests; those in flight finish.
    public var drain: Bool

    public init(host: String, port: Int, weight: Int = 1, drain: Bool = false) {
        self.host = host
        self.port = port
        self.weight = weight
        self.drain = drain
    }

    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct PoolConfig: Sendable, Equatable {
    /// Key `max_idle`: idle keep-alive connections kept per backend per event loop, default 32.
    public var maxIdle: Int
    /// Key `idle_timeout`: an idle pooled connection is closed after this, default 60s.
    public var idleTimeout: Duration

    public init(maxIdle: Int = 32, idleTimeout: Duration = .seconds(60)) {
        self.maxIdle = maxIdle
        self.idleTimeout = idleTimeout
    }
}

public struct ClusterConfig: Sendable, Equatable {
    /// Key `name`. Required, unique.
    public var name: String
    /// Key `balancer`, default `round_robin`.
    public var balancer: BalancerKind
    /// Key `hash`.
    public var hash: HashConfig
    /// Key `backends`, default empty (every request to the cluster is then answered 503).
    public var backends: [BackendConfig]
    /// Key `pool`.
    public var pool: PoolConfig
    /// Key `health_check`: active checks; nil (absent) = none.
    public var healthCheck: HealthCheckConfig?
    /// Key `outlier_detection`: passive checks on real traffic.
    public var outlierDetection: OutlierConfig
    /// Key `circuit_breaker`: per-backend caps.
    public var circuitBreaker: CircuitBreakerConfig
    /// Key `retries`.
    public var retries: RetryConfig
    /// Key `slow_start`: a new or recovered backend's weight ramps up over this, default 0s = off.
    public var slowStart: Duration
    /// Key `panic_threshold`: below this percentage of healthy backends, balance across all
    /// of them (as Envoy), default 50; 0 = never.
    public var panicThreshold: Int
    /// Key `tls`: nil (absent) = plain HTTP to the backends; set = HTTPS.
    public var tls: ClusterTLSConfig?
    /// Key `http2`: nil (absent) = HTTP/1.1 to the backends; set = HTTP/2.
    public var http2: ClusterHTTP2Config?

    public init(
        name: String,
        balancer: BalancerKind = .roundRobin,
        hash: HashConfig = HashConfig(),
        backends: [BackendConfig] = [],
        pool: PoolConfig = PoolConfig(),
        healthCheck: HealthCheckConfig? = nil,
        outlierDetection: OutlierConfig = OutlierConfig(),
        circuitBreaker: CircuitBreakerConfig = CircuitBreakerConfig(),
        retries: RetryConfig = RetryConfig(),
        slowStart: Duration = .zero,
        panicThreshold: Int = 50
    ) {
        self.name = name
        self.balancer = balancer
        self.hash = hash
        self.backends = backends
        self.pool = pool
        self.healthCheck = healthCheck
        self.outlierDetection = outlierDetection
        self.circuitBreaker = circuitBreaker
        self.retries = retries
        self.slowStart = slowStart
        self.panicThreshold = panicThreshold
    }
}
