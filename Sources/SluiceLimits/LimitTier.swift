/// Which algorithm a rate-limit policy runs. Every tier of a policy uses the same one.
public enum RateAlgorithm: String, Sendable, Equatable, CaseIterable {
    /// A bucket of `burst` tokens refilled at `limit` per `window`, continuously.
    case tokenBucket = "token_bucket"
    /// The generic cell rate algorithm: the same contract as the token bucket, kept as one
    /// theoretical arrival time per key (8 bytes of state instead of a count and a time).
    case gcra
    /// Fixed windows of `window` with the previous window's count weighted by how much of
    /// it the sliding window still covers (Cloudflare's approximation).
    case slidingWindow = "sliding_window"
}

/// One tier: at most `limit` requests per `window`. A policy's tiers must all pass.
public struct LimitTier: Sendable, Equatable, Hashable {
    /// Requests allowed per window, at least 1.
    public var limit: Int
    /// The window in nanoseconds, greater than 0.
    public var window: UInt64
    /// How many may arrive at once (token bucket and GCRA); nil means `limit`. The sliding
    /// window ignores it.
    public var burst: Int?

    public init(limit: Int, window: UInt64, burst: Int? = nil) {
        self.limit = limit
        self.window = window
        self.burst = burst
    }

    /// The burst the bucket algorithms allow.
    public var capacity: Int { burst ?? limit }
}
