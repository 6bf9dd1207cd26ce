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
    private var scheduledFor: NIODeadline?
    private var task: Scheduled<Void>?
    /// Called on the event loop when a deadline passes; set by the owner, which must not capture
    /// itself strongly (ProxyHandler captures itself unowned and empties it when removed).
    var onExpiry: () -> Void = {}

    init(eventLoop: any EventLoop, step: TimeAmount) {
        self.eventLoop = eventLoop
        self.step = step
    }

    var isSet: Bool { deadline != nil }

    /// Expire `amount` from now, by the event loop's clock (virtual in EmbeddedEventLoop tests).
    func set(after amount: TimeAmount) {
        let deadline = eventLoop.now + amount
        self.deadline = deadline
        if let scheduledFor, scheduledFor <= deadline { return }
        arm(for: deadline)
    }

    func clear() {
        deadline = nil
    }

    func cancel() {
        deadline = nil
        task?.cancel()
        task = nil
        scheduledFor = nil
    }

    private func arm(for deadline: NIODeadline) {
        task?.cancel()
        let at = min(deadline, eventLoop.now + step)
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
        guard let deadline else { return }
        if eventLoop.now >= deadline {
            self.deadline = nil
            onExpiry()
        } else {
            arm(for: deadline)
        }
    }
}
