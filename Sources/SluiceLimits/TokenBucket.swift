/// A bucket of `capacity` tokens refilled continuously at `limit` per `window`, one token a
/// request.
///
/// The state is "tokens as time": when the bucket will be full again. Refill is then just
/// the clock moving, and the fraction of a nanosecond that `window / limit` leaves (a third
/// of a second is not whole nanoseconds) is kept as an exact remainder, so no amount of
/// traffic drifts the rate. Internally time is scaled by `limit / g` (g = gcd(window,
/// limit)) so that one token is a whole number of scaled units.
public struct TokenBucket: TierLimiter, Equatable {
    public struct State: Sendable, Equatable {
        /// The whole nanosecond at or after which the bucket is full.
        public var fullAt: UInt64
        /// How far past `fullAt` it really fills, in units of gcd(window, limit) / limit ns.
        public var remainder: UInt64

        public init(fullAt: UInt64 = 0, remainder: UInt64 = 0) {
            self.fullAt = fullAt
            self.remainder = remainder
        }
    }

    /// Tokens when full (the tier's burst).
    public let capacity: Int
    /// Scaled units one token takes to refill: window / g.
    let tokenTime: UInt64
    /// Scaled units per nanosecond: limit / g.
    let scale: UInt64
    /// Scaled units from empty to full: capacity × tokenTime.
    let full: UInt64

    public init(_ tier: LimitTier) {
        let limit = UInt64(max(1, tier.limit))
        let window = max(1, tier.window)
        let divisor = greatestCommonDivisor(limit, window)
        scale = limit / divisor
        tokenTime = window / divisor
        capacity = Int(min(UInt64(max(1, tier.capacity)), largestScaledTime / tokenTime))
        full = UInt64(capacity) * tokenTime
    }

    public var idleAfter: UInt64 { (full + scale - 1) / scale }

    public func remaining(in state: State, now: UInt64) -> Int {
        Int((full - missing(state, now: now)) / tokenTime)
    }

    public func resetAfter(in state: State, now: UInt64) -> UInt64 {
        (missing(state, now: now) + scale - 1) / scale
    }

    public func wait(for cost: Int, in state: State, now: UInt64) -> UInt64 {
        guard cost <= capacity else { return .max }
        let needed = missing(state, now: now) + clampedCount(cost, to: capacity) * tokenTime
        guard needed > full else { return 0 }
        return (needed - full + scale - 1) / scale
    }

    public func consume(_ cost: Int, from state: inout State, now: UInt64) {
        let spent = clampedCount(cost, to: capacity) * tokenTime
        state = self.state(missing: min(full, missing(state, now: now) + spent), now: now)
    }

    public func giveBack(_ count: Int, to state: inout State, now: UInt64) {
        let owed = missing(state, now: now)
        guard owed > 0 else { return }
        let returned = clampedCount(count, to: capacity) * tokenTime
        state = self.state(missing: owed - min(owed, returned), now: now)
    }

    /// Scaled units until full, at most `full` (also when `now` is behind the state).
    @inline(__always)
    func missing(_ state: State, now: UInt64) -> UInt64 {
        guard state.fullAt >= now else { return 0 }
        let ahead = state.fullAt - now
        guard ahead <= full / scale else { return full }
        return min(full, ahead * scale + state.remainder)
    }

    @inline(__always)
    func state(missing: UInt64, now: UInt64) -> State {
        if scale == 1 { return State(fullAt: now + missing, remainder: 0) }
        return State(fullAt: now + missing / scale, remainder: missing % scale)
    }
}

extension TokenBucket.State: PackedTierState {
    static var wordCount: Int { 2 }

    init(words: StateWords, at offset: Int) {
        self.init(fullAt: words[offset], remainder: words[offset + 1])
    }

    func write(to words: inout StateWords, at offset: Int) {
        words[offset] = fullAt
        words[offset + 1] = remainder
    }
}
