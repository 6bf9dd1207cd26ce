/// Health checks, outlier detection, circuit breaking, retries and hedging.

public enum HealthCheckKind: String, Sendable, Equatable, CaseIterable {
    case http
    case tcp
}

/// Key `clusters[].health_check`: a probe per backend every `interval` (± `jitter`).
public struct HealthCheckConfig: Sendable, Equatable {
    /// Key `type`: `http` (a request, judged by status and body) or `tcp` (a connect), default http.
    public var kind: HealthCheckKind
    /// Key `method`, default GET.
    public var method: String
    /// Key `path`, default `/`.
    public var path: String
    /// Key `host`: the Host header of the probe, default the backend's address.
    public var host: String?
    /// Key `expect_status`: `200-399` or one code, default 200-399.
    public var expectStatus: ClosedRange<Int>
    /// Key `body_contains`: the response body must contain this, default none.
    public var bodyContains: String?
    /// Key `interval`, default 5s.
    public var interval: Duration
    /// Key `jitter`: up to this much is added to each interval at random, so checks from many
    /// instances do not arrive together, default 1s.
    public var jitter: Duration
    /// Key `timeout`: the whole probe, default 2s.
    public var timeout: Duration
    /// Key `rise`: consecutive passes that bring a backend back, default 2.
    public var rise: Int
    /// Key `fall`: consecutive failures that take it out, default 3.
    public var fall: Int

    public init(
        kind: HealthCheckKind = .http, method: String = "GET", path: String = "/", host: String? = nil,
        expectStatus: ClosedRange<Int> = 200...399, bodyContains: String? = nil, interval: Duration = .seconds(5),
        jitter: Duration = .seconds(1), timeout: Duration = .seconds(2), rise: Int = 2, fall: Int = 3
    ) {
        self.kind = kind
        self.method = method
        self.path = path
        self.host = host
        self.expectStatus = expectStatus
        self.bodyContains = bodyContains
        self.interval = interval
        self.jitter = jitter
        self.timeout = timeout
        self.rise = rise
        self.fall = fall
    }
}

/// Key `clusters[].outlier_detection`: ejection on real traffic, as Envoy's.
public struct OutlierConfig: Sendable, Equatable {
    /// Key `consecutive_5xx`, default 5; 0 = not counted.
    public var consecutive5xx: Int
    /// Key `consecutive_gateway_failures`: connect failures, timeouts and resets, default 5; 0 = not counted.
    public var consecutiveGatewayFailures: Int
    /// Key `base_ejection_time`: the first ejection's length, doubled for each further one, default 30s.
    public var baseEjectionTime: Duration
    /// Key `max_ejection_time`, default 300s.
    public var maxEjectionTime: Duration
    /// Key `max_ejection_percent`: of the cluster's backends, default 10 (at least one may always be ejected).
    public var maxEjectionPercent: Int

    public init(
        consecutive5xx: Int = 5, consecutiveGatewayFailures: Int = 5, baseEjectionTime: Duration = .seconds(30),
        maxEjectionTime: Duration = .seconds(300), maxEjectionPercent: Int = 10
    ) {
        self.consecutive5xx = consecutive5xx
        self.consecutiveGatewayFailures = consecutiveGatewayFailures
        self.baseEjectionTime = baseEjectionTime
        self.maxEjectionTime = maxEjectionTime
        self.maxEjectionPercent = maxEjectionPercent
    }
}

/// Key `clusters[].circuit_breaker`: per-backend caps; a backend at a cap is skipped.
public struct CircuitBreakerConfig: Sendable, Equatable {
    /// Key `max_in_flight`, default 0 = no cap.
    public var maxInFlight: Int
    /// Key `max_pending_connects`, default 0 = no cap.
    public var maxPendingConnects: Int

    public init(maxInFlight: Int = 0, maxPendingConnects: Int = 0) {
        self.maxInFlight = maxInFlight
        self.maxPendingConnects = maxPendingConnects
    }
}

/// Key `clusters[].retries`. Connect failures are retried for every request (nothing was
/// sent); a reset, a timeout or a listed status only for idempotent requests, and only while
/// no response byte has reached the client. Each try goes to a different backend when one is left.
public struct RetryConfig: Sendable, Equatable {
    /// Key `max_retries`: tries after the first, default 2; 0 = never retry.
    public var maxRetries: Int
    /// Key `per_try_timeout`: request sent to response head, per try, default 0s = `upstream_header`.
    public var perTryTimeout: Duration
    /// Key `on_status`: response statuses retried for idempotent requests, default [502, 503, 504].
    public var onStatus: [Int]
    /// Key `budget_percent`: retries at most this share of requests (10 s window), default 20.
    public var budgetPercent: Double
    /// Key `budget_min_per_second`: retries always allowed per second on top, default 3.
    public var budgetMinPerSecond: Int
    /// Key `replay_buffer`: request body kept for a retry; a longer body is not retried, default 64KiB.
    public var replayBuffer: Int

    public init(
        maxRetries: Int = 2, perTryTimeout: Duration = .zero, onStatus: [Int] = [502, 503, 504],
        budgetPercent: Double = 20, budgetMinPerSecond: Int = 3, replayBuffer: Int = 64 * 1024
    ) {
        self.maxRetries = maxRetries
        self.perTryTimeout = perTryTimeout
        self.onStatus = onStatus
        self.budgetPercent = budgetPercent
        self.budgetMinPerSecond = budgetMinPerSecond
        self.replayBuffer = replayBuffer
    }
}

/// When a route's hedge fires: after a fixed delay, or after the cluster's observed p95.
public enum HedgeDelay: Sendable, Equatable {
    case fixed(Duration)
    case p95
}

/// Key `routes[].hedge`: for idempotent requests without a body, a second try to another
/// backend when the first has not answered after `delay`; the first response wins.
public struct HedgeConfig: Sendable, Equatable {
    /// Key `delay`: a duration, or `p95`. Required when `hedge` is present.
    public var delay: HedgeDelay

    public init(delay: HedgeDelay) { self.delay = delay }
}
