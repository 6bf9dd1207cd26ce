/// Why `LimitPolicy.init` refused its tiers.
public enum LimitPolicyError: Error, Equatable, Sendable {
    /// A policy has 1 to `LimitPolicy.maxTiers` tiers.
    case tierCount(Int)
    /// Tier `index` (from 0) cannot be run, and why.
    case invalidTier(index: Int, reason: String)
}

/// One key's state under a policy: every tier's state inline, at most 64 bytes. `LimitState()`
/// is a fresh key.
public struct LimitState: Sendable, Equatable {
    /// Tier i's state starts at word i × (the algorithm's words per tier).
    var words: StateWords

    public init() { words = .zero }

    /// True while nothing was ever spent. (A state that has refilled allows as much, but is
    /// not `isFresh`.)
    public var isFresh: Bool { words == .zero }
}

/// A rate-limit policy: one algorithm over 1 to 4 tiers, all of which must allow a request.
/// A refused request spends nothing in any tier, so a client held back by one tier is not
/// charged by the others.
public struct LimitPolicy: Sendable, Equatable {
    public static let maxTiers = 4

    /// The name the RateLimit fields carry.
    public let name: String
    public let algorithm: RateAlgorithm
    public let tiers: [LimitTier]
    /// Nanoseconds after its last use at which any key's state is as good as fresh: the
    /// longest tier's time to refill from empty (burst × window / limit), or two windows for
    /// the sliding window (the previous window still weighs through the current one).
    public let idleAfter: UInt64
    let limiters: Limiters

    enum Limiters: Sendable, Equatable {
        case tokenBucket([TokenBucket])
        case gcra([GCRA])
        case slidingWindow([SlidingWindow])
    }

    public init(name: String, algorithm: RateAlgorithm, tiers: [LimitTier]) throws(LimitPolicyError) {
        guard (1...Self.maxTiers).contains(tiers.count) else { throw .tierCount(tiers.count) }
        for (index, tier) in tiers.enumerated() {
            if let reason = Self.problem(with: tier, algorithm: algorithm) {
                throw .invalidTier(index: index, reason: reason)
            }
        }
        self.name = name
        self.algorithm = algorithm
        self.tiers = tiers
        switch algorithm {
        case .tokenBucket:
            let limiters = tiers.map(TokenBucket.init)
            self.limiters = .tokenBucket(limiters)
            idleAfter = limiters.map(\.idleAfter).max() ?? 0
        case .gcra:
            let limiters = tiers.map(GCRA.init)
            self.limiters = .gcra(limiters)
            idleAfter = limiters.map(\.idleAfter).max() ?? 0
        case .slidingWindow:
            let limiters = tiers.map(SlidingWindow.init)
            self.limiters = .slidingWindow(limiters)
            idleAfter = limiters.map(\.idleAfter).max() ?? 0
        }
    }

    /// UInt64 words of state per key: tiers × 1 (GCRA) or × 2.
    public var stateWordCount: Int {
        switch algorithm {
        case .tokenBucket: tiers.count * TokenBucket.State.wordCount
        case .gcra: tiers.count * GCRA.State.wordCount
        case .slidingWindow: tiers.count * SlidingWindow.State.wordCount
        }
    }

    /// Allows `cost` (usually 1; 0 only reports) if every tier does, spending it in all of
    /// them; otherwise spends nothing and says when all would allow it.
    public func decide(state: inout LimitState, cost: Int = 1, now: UInt64) -> LimitDecision {
        switch limiters {
        case .tokenBucket(let limiters): decide(limiters, &state, cost, now)
        case .gcra(let limiters): decide(limiters, &state, cost, now)
        case .slidingWindow(let limiters): decide(limiters, &state, cost, now)
        }
    }

    /// Spends as many as every tier allows now, at most `n`, and returns that number (a lease
    /// for a shared store).
    public func take(state: inout LimitState, upTo n: Int, now: UInt64) -> Int {
        switch limiters {
        case .tokenBucket(let limiters): take(limiters, &state, n, now)
        case .gcra(let limiters): take(limiters, &state, n, now)
        case .slidingWindow(let limiters): take(limiters, &state, n, now)
        }
    }

    /// Returns `count` unused requests to every tier, never past a tier's full quota.
    public func giveBack(state: inout LimitState, count: Int, now: UInt64) {
        switch limiters {
        case .tokenBucket(let limiters): giveBack(limiters, &state, count, now)
        case .gcra(let limiters): giveBack(limiters, &state, count, now)
        case .slidingWindow(let limiters): giveBack(limiters, &state, count, now)
        }
    }

    @inline(__always)
    private func decide<L: TierLimiter>(
        _ limiters: [L], _ state: inout LimitState, _ cost: Int, _ now: UInt64
    ) -> LimitDecision where L.State: PackedTierState {
        let width = L.State.wordCount
        var wait: UInt64 = 0
        for tier in limiters.indices {
            let tierState = L.State(words: state.words, at: tier * width)
            wait = max(wait, limiters[tier].wait(for: cost, in: tierState, now: now))
        }
        var decision = LimitDecision(allowed: wait == 0, retryAfter: wait, tierCount: limiters.count)
        var closestWindow: UInt64 = 0
        for tier in limiters.indices {
            var tierState = L.State(words: state.words, at: tier * width)
            if wait == 0, cost > 0 {
                limiters[tier].consume(cost, from: &tierState, now: now)
                tierState.write(to: &state.words, at: tier * width)
            }
            let remaining = limiters[tier].remaining(in: tierState, now: now)
            decision.remainingValues[tier] = remaining
            decision.resetValues[tier] = limiters[tier].resetAfter(in: tierState, now: now)
            // Closest to refusing: fewest remaining; on a tie the longer window, which takes
            // longer to come back.
            let window = tiers[tier].window
            if tier == 0 || remaining < decision.remainingValues[decision.closestTier]
                || (remaining == decision.remainingValues[decision.closestTier] && window > closestWindow) {
                decision.closestTier = tier
                closestWindow = window
            }
        }
        return decision
    }

    @inline(__always)
    private func take<L: TierLimiter>(
        _ limiters: [L], _ state: inout LimitState, _ n: Int, _ now: UInt64
    ) -> Int where L.State: PackedTierState {
        let width = L.State.wordCount
        var granted = max(0, n)
        for tier in limiters.indices where granted > 0 {
            let tierState = L.State(words: state.words, at: tier * width)
            granted = min(granted, limiters[tier].remaining(in: tierState, now: now))
        }
        guard granted > 0 else { return 0 }
        for tier in limiters.indices {
            var tierState = L.State(words: state.words, at: tier * width)
            limiters[tier].consume(granted, from: &tierState, now: now)
            tierState.write(to: &state.words, at: tier * width)
        }
        return granted
    }

    @inline(__always)
    private func giveBack<L: TierLimiter>(
        _ limiters: [L], _ state: inout LimitState, _ count: Int, _ now: UInt64
    ) where L.State: PackedTierState {
        guard count > 0 else { return }
        let width = L.State.wordCount
        for tier in limiters.indices {
            var tierState = L.State(words: state.words, at: tier * width)
            limiters[tier].giveBack(count, to: &tierState, now: now)
            tierState.write(to: &state.words, at: tier * width)
        }
    }

    /// Why `tier` cannot run under `algorithm`, or nil. Bounds keep every sum in 64 bits.
    /// Why `tier` cannot run under `algorithm`, or nil; the config loader names it at the tier.
    public static func problem(with tier: LimitTier, algorithm: RateAlgorithm) -> String? {
        if tier.limit < 1 { return "limit must be at least 1" }
        if tier.window == 0 { return "window must be greater than 0" }
        if tier.window > largestScaledTime { return "window must be at most 2^62 ns" }
        switch algorithm {
        case .tokenBucket, .gcra:
            if tier.capacity < 1 { return "burst must be at least 1" }
            let kept = algorithm == .gcra ? GCRA(tier).capacity : TokenBucket(tier).capacity
            if kept != tier.capacity { return "burst × window / limit must be at most 2^62 ns" }
        case .slidingWindow:
            if tier.limit > Int(UInt32.max) { return "limit must be at most \(UInt32.max)" }
        }
        return nil
    }
}
