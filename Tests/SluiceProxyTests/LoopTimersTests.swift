import NIOCore
import NIOEmbedded
import Testing
@testable import SluiceProxy

/// One heap of timers per event loop: order, removal and callbacks that change other timers.
@Suite struct LoopTimersTests {
    /// Timers set in a scrambled order fire in deadline order, each once, each at its deadline.
    @Test func timersFireInDeadlineOrderEachAtItsOwnDeadline() {
        let loop = EmbeddedEventLoop()
        let timers = LoopTimers(eventLoop: loop)
        var fired: [(Int, Int64)] = []
        var held: [DeadlineTimer] = []
        let seconds = [7, 3, 9, 1, 5, 8, 2, 6, 4, 10]
        let start = loop.now
        for s in seconds {
            let timer = DeadlineTimer(timers: timers, step: .seconds(60))
            timer.onExpiry = { fired.append((s, (loop.now - start).nanoseconds / 1_000_000_000)) }
            timer.set(after: .seconds(Int64(s)))
            held.append(timer)
        }
        #expect(timers.count == 10)
        for _ in 0..<12 { loop.advanceTime(by: .seconds(1)) }
        #expect(fired.map(\.0) == Array(1...10))
        #expect(fired.allSatisfy { Int64($0.0) == $0.1 })
        #expect(timers.count == 0)
    }

    /// A cancelled timer leaves the heap at once and never fires; the others keep their order.
    @Test func aCancelledTimerLeavesTheHeapAndTheRestKeepTheirOrder() {
        let loop = EmbeddedEventLoop()
        let timers = LoopTimers(eventLoop: loop)
        var fired: [Int] = []
        let all = (1...9).map { s -> DeadlineTimer in
            let timer = DeadlineTimer(timers: timers, step: .seconds(60))
            timer.onExpiry = { fired.append(s) }
            timer.set(after: .seconds(Int64(s)))
            return timer
        }
        all[4].cancel()  // 5, from the middle of the heap
        all[0].cancel()  // 1, its top
        #expect(timers.count == 7)
        loop.advanceTime(by: .seconds(10))
        #expect(fired == [2, 3, 4, 6, 7, 8, 9])
    }

    /// Two timers due in the same tick: the first one's callback cancels the second, which then
    /// does not fire; a third, moved later by that callback, fires at its new deadline.
    @Test func aCallbackCancellingOrMovingAnotherTimerDueInTheSameTickIsObeyed() {
        let loop = EmbeddedEventLoop()
        let timers = LoopTimers(eventLoop: loop)
        let first = DeadlineTimer(timers: timers, step: .seconds(60))
        let second = DeadlineTimer(timers: timers, step: .seconds(60))
        let third = DeadlineTimer(timers: timers, step: .seconds(60))
        var fired: [String] = []
        first.onExpiry = {
            fired.append("first")
            second.cancel()
            third.set(after: .seconds(5))
        }
        second.onExpiry = { fired.append("second") }
        third.onExpiry = { fired.append("third") }
        first.set(after: .seconds(1))
        second.set(after: .seconds(1))
        third.set(after: .seconds(1))
        loop.advanceTime(by: .seconds(2))
        #expect(fired == ["first"])
        #expect(timers.count == 1)
        loop.advanceTime(by: .seconds(5))
        #expect(fired == ["first", "third"])
    }

    /// A deadline beyond `step` waits in steps and fires once at the deadline, not at a step.
    @Test func aDeadlineBeyondTheStepFiresOnceAtTheDeadline() {
        let loop = EmbeddedEventLoop()
        let timers = LoopTimers(eventLoop: loop)
        let timer = DeadlineTimer(timers: timers, step: .seconds(2))
        var fired = 0
        timer.onExpiry = { fired += 1 }
        timer.set(after: .seconds(7))
        loop.advanceTime(by: .seconds(6))
        #expect(fired == 0)
        #expect(timers.count == 1)
        loop.advanceTime(by: .seconds(1))
        #expect(fired == 1)
        #expect(timers.count == 0)
    }
}
