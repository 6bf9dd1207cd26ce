/// The sliding-window counter: fixed windows of `window` (aligned to multiples of it), and
/// the previous window's count weighted by how much of it a window ending now still covers:
/// estimate = previous × (1 − elapsed / window) + current. A request of cost k passes while
/// estimate + k ≤ limit, compared exactly in integers (the weight is never rounded down).
/// The tier's burst does not apply: a window holds at most `limit`.
public struct SlidingWindow: TierLimiter, Equatable {
    public struct State: Sendable, Equatable {
        /// Which window (now / window) `current` counts.
        public var windowIndex: UInt64
        public var current: UInt32
        /// The count of the window before `windowIndex`.
        public var previous: UInt32

        public init(windowIndex: UInt64 = 0, current: UInt32 = 0, previous: UInt32 = 0) {
            self.windowIndex = windowIndex
            self.current = current
            self.previous = previous
        }
    }

    /// Requests per window, at most `UInt32.max`.
    public let limit: Int
    /// The window in nanoseconds, at most 2⁶².
    public let window: UInt64

    public init(_ tier: LimitTier) {
        limit = min(max(1, tier.limit), Int(UInt32.max))
        window = min(max(1, tier.window), largestScaledTime)
    }

    /// A count reaches nothing two windows on: its own, then the next one weighting it.
    public var idleAfter: UInt64 { 2 * window }

    public func remaining(in state: State, now: UInt64) -> Int {
        let (state, elapsed) = normalized(state, now: now)
        let used = UInt64(state.current) + weightedPrevious(state.previous, elapsed: elapsed)
        return max(0, limit - Int(min(used, UInt64(limit))))
    }

    public func resetAfter(in state: State, now: UInt64) -> UInt64 {
        let (state, elapsed) = normalized(state, now: now)
        if state.current > 0 { return 2 * window - elapsed }
        return state.previous > 0 ? window - elapsed : 0
    }

    public func wait(for cost: Int, in state: State, now: UInt64) -> UInt64 {
        guard cost <= limit else { return .max }
        let cost = UInt64(max(0, cost))
        let (state, elapsed) = normalized(state, now: now)
        if let offset = passingOffset(previous: state.previous, current: state.current, cost: cost) {
            return offset > elapsed ? offset - elapsed : 0
        }
        let toNext = window - elapsed
        // Next window: this one's count becomes the weighted one; the one after is empty.
        guard let offset = passingOffset(previous: state.current, current: 0, cost: cost) else {
            return toNext + window
        }
        return toNext + offset
    }

    public func consume(_ cost: Int, from state: inout State, now: UInt64) {
        var (normal, _) = normalized(state, now: now)
        let room = UInt64(UInt32.max) - UInt64(normal.current)
        normal.current += UInt32(min(UInt64(max(0, cost)), room))
        state = normal
    }

    /// Takes the returned count off this window's count first, then off the previous one's.
    public func giveBack(_ count: Int, to state: inout State, now: UInt64) {
        var (normal, _) = normalized(state, now: now)
        guard normal.current > 0 || normal.previous > 0 else { return }
        var left = UInt32(clampedCount(count, to: limit))
        let fromCurrent = min(left, normal.current)
        normal.current -= fromCurrent
        left -= fromCurrent
        normal.previous -= min(left, normal.previous)
        state = normal
    }

    /// The state as seen from `now`'s window, and how far into that window `now` is. A `now`
    /// behind the state's window counts as the start of it.
    @inline(__always)
    func normalized(_ state: State, now: UInt64) -> (State, elapsed: UInt64) {
        let index = now / window
        guard index >= state.windowIndex else { return (state, 0) }
        var state = state
        if index != state.windowIndex {
            state.previous = index - state.windowIndex == 1 ? state.current : 0
            state.current = 0
            state.windowIndex = index
        }
        return (state, now - index * window)
    }

    /// ⌈previous × (window − elapsed) / window⌉: the previous count's weight, rounded up so
    /// that a fraction of a request still counts.
    @inline(__always)
    func weightedPrevious(_ previous: UInt32, elapsed: UInt64) -> UInt64 {
        guard previous > 0 else { return 0 }
        let (quotient, remainder) = Self.divide(UInt64(previous), times: window - elapsed, by: window)
        return remainder > 0 ? quotient + 1 : quotient
    }

    /// The offset into a window holding `previous` and `current` from which `cost` more
    /// passes; nil when it does not within that window. previous × (window − e) ≤ room ×
    /// window holds from e = window − ⌊room × window / previous⌋.
    @inline(__always)
    func passingOffset(previous: UInt32, current: UInt32, cost: UInt64) -> UInt64? {
        let used = UInt64(current) + cost
        guard used <= UInt64(limit) else { return nil }
        let room = UInt64(limit) - used
        guard previous > 0, room < UInt64(previous) else { return 0 }
        let slack = Self.divide(room, times: window, by: UInt64(previous)).quotient
        return slack == 0 ? nil : window - slack
    }

    /// a × b / divisor and its remainder, in 64 bits when a × b fits (the usual case: a
    /// count times a window of under a few years), else in 128. The quotient must fit.
    @inline(__always)
    static func divide(_ a: UInt64, times b: UInt64, by divisor: UInt64) -> (quotient: UInt64, remainder: UInt64) {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        if !overflow { return product.quotientAndRemainder(dividingBy: divisor) }
        return divisor.dividingFullWidth(a.multipliedFullWidth(by: b))
    }
}

extension SlidingWindow.State: PackedTierState {
    static var wordCount: Int { 2 }

    init(words: StateWords, at offset: Int) {
        let counts = words[offset + 1]
        self.init(windowIndex: words[offset], current: UInt32(truncatingIfNeeded: counts),
                  previous: UInt32(truncatingIfNeeded: counts >> 32))
    }

    func write(to words: inout StateWords, at offset: Int) {
        words[offset] = windowIndex
        words[offset + 1] = UInt64(current) | UInt64(previous) << 32
    }
}
