import SluiceLimits
import Testing

@Suite struct SlidingWindowTests {
    let window = SlidingWindow(tier(10, per: 10))

    /// 8 requests in the window [0, 10 s).
    func eightInTheFirstWindow() -> SlidingWindow.State {
        var state = SlidingWindow.State()
        #expect(window.take(8, from: &state, now: 2 * second))
        return state
    }

    @Test func theFullLimitThenRefusal() {
        var state = SlidingWindow.State()
        for _ in 0..<10 { #expect(window.take(from: &state, now: 5 * second)) }
        #expect(!window.take(from: &state, now: 9 * second))
        #expect(window.remaining(in: state, now: 9 * second) == 0)
    }

    @Test func thePreviousWindowWeighsByTheShareStillCovered() {
        let state = eightInTheFirstWindow()
        let remaining = { (milliseconds: UInt64) in window.remaining(in: state, now: milliseconds * millisecond) }
        #expect(remaining(9_999) == 2)
        #expect(remaining(10_000) == 2)   // 8 × 1
        #expect(remaining(11_000) == 2)   // 8 × 0.9 = 7.2 still blocks an eighth request
        #expect(remaining(12_500) == 4)   // 8 × 0.75 = 6
        #expect(remaining(15_000) == 6)   // 8 × 0.5 = 4
        #expect(remaining(17_500) == 8)   // 8 × 0.25 = 2
        #expect(window.remaining(in: state, now: 20 * second - 1) == 9)
        #expect(remaining(20_000) == 10)
    }

    @Test func weightAndCurrentCountAdd() {
        var state = eightInTheFirstWindow()
        #expect(window.take(3, from: &state, now: 15 * second))   // 4 + 3 ≤ 10
        #expect(window.remaining(in: state, now: 15 * second) == 3)
        #expect(!window.take(4, from: &state, now: 15 * second))
        // At 17.5 s: 8 × 0.25 + 3 = 5.
        #expect(window.remaining(in: state, now: 17_500 * millisecond) == 5)
        // Next window: the 3 weigh in turn, 3 × 0.5 = 1.5 at 25 s.
        #expect(window.remaining(in: state, now: 25 * second) == 8)
    }

    @Test func retryAfterIsExactWithinAndAcrossWindows() {
        var state = SlidingWindow.State()
        #expect(window.take(10, from: &state, now: 5 * second))
        // Full now; in the next window 10 × (1 − e/10 s) + 1 ≤ 10 from e = 1 s.
        #expect(window.wait(for: 1, in: state, now: 5 * second) == 6 * second)
        #expect(window.wait(for: 1, in: state, now: 10 * second) == second)
        #expect(window.wait(for: 1, in: state, now: 11 * second - 1) == 1)
        #expect(window.wait(for: 1, in: state, now: 11 * second) == 0)
        #expect(window.wait(for: 5, in: state, now: 12 * second) == 3 * second)
        // The whole limit has to wait for the previous window to weigh nothing.
        #expect(window.wait(for: 10, in: state, now: 12 * second) == 8 * second)
        #expect(window.wait(for: 11, in: state, now: 12 * second) == .max)
        #expect(!window.take(from: &state, now: 11 * second - 1))
        #expect(window.take(from: &state, now: 11 * second))
    }

    @Test func retryAfterWaitsTwoWindowsWhenBothAreFull() {
        var state = SlidingWindow.State()
        #expect(window.take(5, from: &state, now: 0))
        #expect(window.take(5, from: &state, now: 10 * second))   // 5 × 1 + 5
        // Now 10 s: this window holds 5, the previous weighs 5; 10 at once needs both gone.
        #expect(window.wait(for: 10, in: state, now: 10 * second) == 20 * second)
        #expect(window.wait(for: 5, in: state, now: 10 * second) == 10 * second)
    }

    @Test func resetAfterIsWhenNothingWeighsAnyMore() {
        var state = SlidingWindow.State()
        #expect(window.resetAfter(in: state, now: 3 * second) == 0)
        #expect(window.take(from: &state, now: 3 * second))
        #expect(window.resetAfter(in: state, now: 3 * second) == 17 * second)
        #expect(window.resetAfter(in: state, now: 14 * second) == 6 * second)
        #expect(window.resetAfter(in: state, now: 20 * second) == 0)
        #expect(window.idleAfter == 20 * second)
    }

    @Test func takeUpToAndGiveBack() {
        var state = eightInTheFirstWindow()
        #expect(window.take(upTo: 5, from: &state, now: 2 * second) == 2)
        #expect(window.take(upTo: 5, from: &state, now: 2 * second) == 0)
        window.giveBack(3, to: &state, now: 2 * second)
        #expect(window.remaining(in: state, now: 2 * second) == 3)
        window.giveBack(99, to: &state, now: 2 * second)
        #expect(state.current == 0)
        #expect(window.remaining(in: state, now: 2 * second) == 10)
    }

    @Test func aLeaseReturnedInTheNextWindowComesOffTheWeightedCount() {
        var state = SlidingWindow.State()
        #expect(window.take(upTo: 10, from: &state, now: 9 * second) == 10)
        window.giveBack(4, to: &state, now: 10 * second)
        #expect(state == SlidingWindow.State(windowIndex: 1, current: 0, previous: 6))
        #expect(window.remaining(in: state, now: 10 * second) == 4)
    }
}
