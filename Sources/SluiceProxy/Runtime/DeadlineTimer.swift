import NIOCore

/// A timer that is cheap to move. Setting a deadline only stores it; the timer waits in its
/// loop's heap (LoopTimers) and, when it comes up before the deadline, goes back in for what
/// is left. It never waits further than `step` ahead, so a deadline set later but sooner (a
/// header timeout after an idle one) is still met without moving it in the heap. Per request
/// this costs a stored value instead of a schedule and a cancel.
final class DeadlineTimer {
    private let timers: LoopTimers
    private let step: TimeAmount
    private var deadline: NIODeadline?
    /// A second deadline with its own callback: a client connection's ProxyHandler keeps its
    /// upstream timeouts here, on the timer of its ClientTimeoutHandler, so that an idle
    /// connection holds one timer rather than two.
    private var secondDeadline: NIODeadline?
    /// Kept by LoopTimers: when this timer comes up, and its place in the heap (nil: not in it).
    var queuedAt: NIODeadline?
    var heapIndex: Int?
    /// Called on the event loop when a deadline passes; set by the owner, which must not capture
    /// itself strongly (ProxyHandler captures itself unowned and empties it when removed).
    var onExpiry: () -> Void = {}
    var onSecondExpiry: () -> Void = {}

    init(timers: LoopTimers, step: TimeAmount) {
        self.timers = timers
        self.step = step
    }

    /// A timer with a heap of its own, for owners that have no loop's LoopTimers at hand.
    convenience init(eventLoop: any EventLoop, step: TimeAmount) {
        self.init(timers: LoopTimers(eventLoop: eventLoop), step: step)
    }

    private var eventLoop: any EventLoop { timers.eventLoop }

    var isSet: Bool { deadline != nil }

    /// Expire `amount` from now, by the event loop's clock (virtual in EmbeddedEventLoop tests).
    func set(after amount: TimeAmount) {
        let deadline = eventLoop.now + amount
        self.deadline = deadline
        schedule(deadline)
    }

    func setSecond(after amount: TimeAmount) {
        let deadline = eventLoop.now + amount
        secondDeadline = deadline
        schedule(deadline)
    }

    func clear() {
        deadline = nil
    }

    func clearSecond() {
        secondDeadline = nil
    }

    /// Both deadlines end and the timer leaves the heap: the owner is done with it.
    func cancel() {
        deadline = nil
        secondDeadline = nil
        timers.remove(self)
    }

    /// The first deadline's owner is done (its handler left); a second deadline keeps running.
    func cancelFirst() {
        deadline = nil
        if secondDeadline == nil { timers.remove(self) }
    }

    /// The second deadline's owner is done.
    func cancelSecond() {
        secondDeadline = nil
        if deadline == nil { timers.remove(self) }
    }

    private var earliest: NIODeadline? {
        switch (deadline, secondDeadline) {
        case let (first?, second?): min(first, second)
        case let (first, second): first ?? second
        }
    }

    private func schedule(_ deadline: NIODeadline) {
        if let queuedAt, queuedAt <= deadline { return }
        arm()
    }

    private func arm() {
        guard let earliest else { return timers.remove(self) }
        timers.queue(self, at: min(earliest, eventLoop.now + step))
    }

    /// Called by LoopTimers once it has taken this timer out of the heap.
    func fired(now: NIODeadline) {
        if let deadline, now >= deadline {
            self.deadline = nil
            onExpiry()
        }
        if let secondDeadline, now >= secondDeadline {
            self.secondDeadline = nil
            onSecondExpiry()
        }
        // A callback that set a deadline has queued the timer already.
        if heapIndex == nil, earliest != nil { arm() }
    }
}
