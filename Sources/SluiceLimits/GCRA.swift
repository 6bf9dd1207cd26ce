/// The generic cell rate algorithm: one theoretical arrival time (TAT) per key, 8 bytes.
///
/// Each request moves the TAT on by the emission interval T = window / limit; a request
/// passes while TAT − now ≤ τ. The tolerance is τ = (capacity − 1) × T, which is what lets
/// exactly `capacity` requests through at once from a fresh key (TAT ≤ now): the k-th of them
/// sees TAT − now = (k − 1) × T. The admissions are the token bucket's; the state is half its
/// size because T is kept in whole nanoseconds, rounded up when `limit` does not divide
/// `window`: never more than `limit` per window, each request under a nanosecond dearer.
public struct GCRA: TierLimiter, Equatable {
    public struct State: Sendable, Equatable {
        /// When the key is back to a full burst: TAT, in nanoseconds.
        public var theoreticalArrival: UInt64

        public init(theoreticalArrival: UInt64 = 0) {
            self.theoreticalArrival = theoreticalArrival
        }
    }

    /// Requests that may arrive at once (the tier's burst).
    public let capacity: Int
    /// T in nanoseconds: ⌈window / limit⌉.
    public let emissionInterval: UInt64
    /// τ + T = capacity × T: how far ahead of now the TAT may be after a request.
    let horizon: UInt64

    public init(_ tier: LimitTier) {
        let limit = UInt64(max(1, tier.limit))
        let window = max(1, tier.window)
        emissionInterval = (window + limit - 1) / limit
        capacity = Int(min(UInt64(max(1, tier.capacity)), largestScaledTime / emissionInterval))
        horizon = UInt64(capacity) * emissionInterval
    }

    /// τ = (capacity − 1) × T.
    public var tolerance: UInt64 { horizon - emissionInterval }

    public var idleAfter: UInt64 { horizon }

    public func remaining(in state: State, now: UInt64) -> Int {
        Int((horizon - delay(state, now: now)) / emissionInterval)
    }

    public func resetAfter(in state: State, now: UInt64) -> UInt64 { delay(state, now: now) }

    public func wait(for cost: Int, in state: State, now: UInt64) -> UInt64 {
        guard cost <= capacity else { return .max }
        let needed = delay(state, now: now) + clampedCount(cost, to: capacity) * emissionInterval
        return needed > horizon ? needed - horizon : 0
    }

    public func consume(_ cost: Int, from state: inout State, now: UInt64) {
        let after = delay(state, now: now) + clampedCount(cost, to: capacity) * emissionInterval
        state.theoreticalArrival = now + min(after, horizon)
    }

    public func giveBack(_ count: Int, to state: inout State, now: UInt64) {
        let delay = delay(state, now: now)
        guard delay > 0 else { return }
        let returned = clampedCount(count, to: capacity) * emissionInterval
        state.theoreticalArrival = now + (delay - min(delay, returned))
    }

    /// TAT − now, at most `horizon` (also when `now` is behind the state).
    @inline(__always)
    func delay(_ state: State, now: UInt64) -> UInt64 {
        state.theoreticalArrival > now ? min(horizon, state.theoreticalArrival - now) : 0
    }
}

extension GCRA.State: PackedTierState {
    static var wordCount: Int { 1 }

    init(words: StateWords, at offset: Int) {
        self.init(theoreticalArrival: words[offset])
    }

    func write(to words: inout StateWords, at offset: Int) {
        words[offset] = theoreticalArrival
    }
}
