/// What one tier says about a state at an instant: enough for the RateLimit fields and
/// Retry-After.
public struct TierStatus: Sendable, Equatable {
    /// Requests of cost 1 that would pass now.
    public var remaining: Int
    /// Nanoseconds until the tier is back to its whole quota if nothing more arrives.
    public var resetAfter: UInt64
    /// Nanoseconds until the asked cost would pass: 0 if it would now, `UInt64.max` if never
    /// (the cost is more than the tier ever holds).
    public var retryAfter: UInt64

    public init(remaining: Int, resetAfter: UInt64, retryAfter: UInt64) {
        self.remaining = remaining
        self.resetAfter = resetAfter
        self.retryAfter = retryAfter
    }
}

/// One tier's arithmetic over a plain state value. The limiter holds only the tier's
/// constants; the state is the caller's, so one limiter serves every key. Nothing reads a
/// clock: `now` is monotonic nanoseconds. A zeroed `State()` is a fresh key (full quota) for
/// every algorithm, and so is any state left alone for `idleAfter`.
///
/// Costs, counts and `n` below 0 count as 0. A `now` earlier than one the state has seen
/// (threads racing for a lock) never adds quota.
public protocol TierLimiter: Sendable {
    associatedtype State: Sendable, Equatable

    init(_ tier: LimitTier)

    /// Nanoseconds after its last change at which any state is equivalent to a fresh one.
    var idleAfter: UInt64 { get }

    /// Requests of cost 1 that would pass now.
    func remaining(in state: State, now: UInt64) -> Int

    /// Nanoseconds until the whole quota is back.
    func resetAfter(in state: State, now: UInt64) -> UInt64

    /// Nanoseconds until `cost` would pass: 0 if it would now, `UInt64.max` if never.
    func wait(for cost: Int, in state: State, now: UInt64) -> UInt64

    /// Spends `cost`, which must pass now (`wait(for:in:now:)` is 0).
    func consume(_ cost: Int, from state: inout State, now: UInt64)

    /// Returns `count` unused requests (a lease handed back), never beyond the full quota.
    func giveBack(_ count: Int, to state: inout State, now: UInt64)
}

extension TierLimiter {
    /// Spends `cost` if it passes now, all or nothing.
    public func take(_ cost: Int = 1, from state: inout State, now: UInt64) -> Bool {
        guard wait(for: cost, in: state, now: now) == 0 else { return false }
        consume(cost, from: &state, now: now)
        return true
    }

    /// Spends as many as pass now, at most `n`, and says how many that was (a lease).
    public func take(upTo n: Int, from state: inout State, now: UInt64) -> Int {
        let granted = min(max(0, n), remaining(in: state, now: now))
        if granted > 0 { consume(granted, from: &state, now: now) }
        return granted
    }

    /// Remaining, reset and the wait for `cost`, without spending anything.
    public func status(of state: State, cost: Int = 1, now: UInt64) -> TierStatus {
        TierStatus(
            remaining: remaining(in: state, now: now),
            resetAfter: resetAfter(in: state, now: now),
            retryAfter: wait(for: cost, in: state, now: now)
        )
    }
}

/// A tier state as UInt64 words, so a policy's tiers sit inline in `LimitState` and in the
/// store's flat table. An all-zero state is a fresh one.
protocol PackedTierState {
    static var wordCount: Int { get }
    init(words: StateWords, at offset: Int)
    func write(to words: inout StateWords, at offset: Int)
}

/// The largest scaled quantity a limiter keeps (capacity × one request's time), so that sums
/// of two never overflow. Tiers past it are clamped.
let largestScaledTime: UInt64 = 1 << 62

@inline(__always)
func clampedCount(_ count: Int, to capacity: Int) -> UInt64 {
    UInt64(min(max(0, count), capacity))
}

func greatestCommonDivisor(_ a: UInt64, _ b: UInt64) -> UInt64 {
    var (a, b) = (a, b)
    while b != 0 { (a, b) = (b, a % b) }
    return a
}
