/// What a balancer sees of one backend when it picks. Plain values, so that the data path can
/// build them from whatever it tracks (pools, health, in-flight counters) and tests can write
/// them by hand.
public struct BackendView: Sendable, Equatable {
    /// Effective weight, at least 1: the configured weight, reduced while slow start ramps a
    /// recovered or new backend up.
    public var weight: Int
    /// Requests currently in flight to the backend (from every event loop of this instance).
    public var inFlight: Int
    /// False when health checks, ejection or draining take the backend out of rotation.
    public var isAvailable: Bool

    public init(weight: Int = 1, inFlight: Int = 0, isAvailable: Bool = true) {
        self.weight = weight
        self.inFlight = inFlight
        self.isAvailable = isAvailable
    }
}

/// The request-side inputs of a pick.
public struct PickContext: Sendable, Equatable {
    /// A stable hash of the request's affinity key (client IP, header, cookie...), for the hash
    /// strategies; nil when the route configures none.
    public var hashKey: UInt64?
    /// Monotonic time in nanoseconds, from the caller's clock, for time-aware strategies
    /// (slow start, latency EWMA). Balancers never read a clock themselves.
    public var nowNanoseconds: UInt64

    public init(hashKey: UInt64? = nil, nowNanoseconds: UInt64 = 0) {
        self.hashKey = hashKey
        self.nowNanoseconds = nowNanoseconds
    }
}

/// A load-balancing algorithm. A value holds the algorithm's own state (cursors, weights
/// already served); the data path keeps one per event loop per cluster, so `pick` is
/// called from one thread at a time and needs no locks.
public protocol Balancer: Sendable {
    /// The index in `backends` of the backend that should serve the next request, or nil when
    /// no backend is available. `random` is the only source of chance an algorithm may use.
    mutating func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int?

    /// Told when a request that this balancer sent to `backend` has its response head (or
    /// failed), with how long that took. Latency-aware strategies learn from it; others ignore it.
    mutating func observe(backend: Int, latencyNanoseconds: UInt64, nowNanoseconds: UInt64)
}

extension Balancer {
    public mutating func observe(backend: Int, latencyNanoseconds: UInt64, nowNanoseconds: UInt64) {}
}
