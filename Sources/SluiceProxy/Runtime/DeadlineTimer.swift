import NIOCore

/// A timer that is cheap to move. Setting a deadline only stores it; the one scheduled task,
/// when it fires before the deadline, re-arms itself for what is left. The task is never
/// scheduled further than `step` ahead, so a deadline set later but sooner (a header
/// timeout after an idle one) is still met without rescheduling. Per request this costs a
/// stored value instead of a schedule and a cancel.
final class DeadlineTimer {
    private let eventLoop: any EventLoop
    private let step: TimeAmount
    private var deadline: NIODeadline?
    /// A second deadline with its own callback: a client connection's ProxyHandler keeps its
    /// upstream timeouts here, on the timer of its ClientTimeoutHandler, so that an idle
    /// connection holds one scheduled task rather than two.
    private var secondDeadline: NIODeadline?
    private var scheduledFor: NIODeadline?
    private var task: Scheduled<Void>?
    /// Called on the event loop when a deadline passes; set by the owner, which must not capture
    /// itself strongly (ProxyHandler captures itself unowned and empties it when removed).
    var onExpiry: () -> Void = {}
    var onSecondExpiry: () -> Void = {}

    init(eventLoop: any EventLoop, step: TimeAmount) {
        self.eventLoop = eventLoop
        self.step = step
    }

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

    /// Both deadlines end and the task goes: the owner is done with the timer.
    func cancel() {
        deadline = nil
        secondDeadline = nil
        dropTask()
    }

    /// The first deadline's owner is done (its handler left); a second deadline keeps running.
    func cancelFirst() {
        deadline = nil
        if secondDeadline == nil { dropTask() }
    }

    /// The second deadline's owner is done.
    func cancelSecond() {
        secondDeadline = nil
        if deadline == nil { dropTask() }
    }

    private var earliest: NIODeadline? {
        switch (deadline, secondDeadline) {
        case let (first?, second?): min(first, second)
        case let (first, second): first ?? second
        }
    }

    private func schedule(_ deadline: NIODeadline) {
        if let scheduledFor, scheduledFor <= deadline { return }
        arm()
    }

    private func dropTask() {
        task?.cancel()
        task = nil
        scheduledFor = nil
    }

    private func arm() {
        task?.cancel()
        guard let earliest else { task = nil; scheduledFor = nil; return }
        let at = min(earliest, eventLoop.now + step)
        scheduledFor = at
        // Strong, neither weak (a side table slows every retain of the timer) nor unowned: a
        // task the loop has already taken into its batch runs even if cancelled meanwhile, and
        // the timer its owner let go must outlive it. It keeps the timer at most one `step`.
        task = eventLoop.assumeIsolated().scheduleTask(deadline: at) { [self] in
            self.fired()
        }
    }

    private func fired() {
        task = nil
        scheduledFor = nil
        let now = eventLoop.now
        if let deadline, now >= deadline {
            self.deadline = nil
            onExpiry()
        }
        if let secondDeadline, now >= secondDeadline {
            self.secondDeadline = nil
            onSecondExpiry()
        }
        // A callback that set a deadline has armed the task already.
        if task == nil, earliest != nil { arm() }
    }
}
