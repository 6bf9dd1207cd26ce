/// What a policy decided for one request, with what the RateLimit fields need. Per-tier
/// values are as they stand after the decision (after spending, when allowed). Fixed-size so
/// a decision allocates nothing.
public struct LimitDecision: Sendable, Equatable {
    public var allowed: Bool
    /// Nanoseconds after which every tier would allow the same cost (the longest wait among
    /// the refusing tiers): 0 when allowed, `UInt64.max` when the cost exceeds a tier's
    /// capacity and never passes.
    public var retryAfter: UInt64
    public var tierCount: Int
    /// The tier closest to refusing: the fewest remaining, on a tie the longer window. The
    /// RateLimit field reports this one.
    public var closestTier: Int
    var remainingValues = TierValues<Int>(storage: (0, 0, 0, 0))
    var resetValues = TierValues<UInt64>(storage: (0, 0, 0, 0))

    public init(allowed: Bool, retryAfter: UInt64, tierCount: Int, closestTier: Int = 0) {
        self.allowed = allowed
        self.retryAfter = retryAfter
        self.tierCount = min(max(0, tierCount), LimitPolicy.maxTiers)
        self.closestTier = closestTier
    }

    /// Requests of cost 1 that tier `tier` would still allow.
    public func remaining(_ tier: Int) -> Int { remainingValues[tier] }

    /// Nanoseconds until tier `tier` is back to its whole quota.
    public func resetAfter(_ tier: Int) -> UInt64 { resetValues[tier] }

    /// Sets tier `tier`'s values (for callers that build decisions, e.g. a shared store).
    public mutating func setTier(_ tier: Int, remaining: Int, resetAfter: UInt64) {
        remainingValues[tier] = remaining
        resetValues[tier] = resetAfter
    }
}
