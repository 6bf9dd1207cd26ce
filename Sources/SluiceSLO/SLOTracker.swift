import Synchronization

/// One objective's windows, shared by every event loop that finishes requests on the route.
///
/// A record takes the lock for four bucket updates; a report copies the eight windows' counts
/// out under the lock and works out ratios, budget and alert after releasing it.
public final class SLOTracker: Sendable {
    public let objective: SLObjective
    public let rules: [BurnRateRule]
    private let windows = Mutex(SLOWindowSet())

    public init(objective: SLObjective, rules: [BurnRateRule] = BurnRateRule.workbook) {
        self.objective = objective
        self.rules = rules
    }

    /// Counts a finished request, good or bad by the objective's kind.
    public func record(status: Int, duration: UInt64, now: UInt64) {
        record(good: objective.isGood(status: status, duration: duration), now: now)
    }

    /// Counts `count` events that ended at `now`.
    public func record(good: Bool, count: Int = 1, now: UInt64) {
        windows.withLock { $0.record(good: good, count: count, now: now) }
    }

    /// Good and total events in `window` at `now`.
    public func counts(window: SLOWindow, now: UInt64) -> SLOCounts {
        windows.withLock { $0.counts(window: window, now: now) }
    }

    /// The objective's state at `now`.
    public func report(now: UInt64) -> SLOReport {
        let counts = windows.withLock { set in SLOWindow.allCases.map { set.counts(window: $0, now: now) } }
        return SLOReport(objective: objective, rules: rules) { counts[SLOWindow.allCases.firstIndex(of: $0)!] }
    }

    /// Bytes of counts held (about 6 KB).
    public var bytes: Int { windows.withLock { $0.bytes } }
}
