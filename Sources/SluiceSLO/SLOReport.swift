/// An objective's state at one moment: what every window saw, how fast the budget burns, how
/// much of it the 30 d window has left, and whether to page. A plain value to encode.
public struct SLOReport: Sendable, Equatable {
    public struct Window: Sendable, Equatable {
        public let window: SLOWindow
        public let good: Int
        public let total: Int
        /// bad / total; nil with no events.
        public let errorRatio: Double?
        /// errorRatio / error budget: 1 spends the budget exactly over the 30 d period, 14.4
        /// spends 2 % of it an hour. nil with no events: no data is not a burn.
        public let burnRate: Double?

        public init(window: SLOWindow, counts: SLOCounts, errorBudget: Double) {
            self.window = window
            self.good = counts.good
            self.total = counts.total
            self.errorRatio = counts.errorRatio
            self.burnRate = counts.errorRatio.map { $0 / errorBudget }
        }
    }

    public let objective: SLObjective
    /// The share of requests allowed to be bad: 1 − target.
    public let errorBudget: Double
    /// One entry per ``SLOWindow``, shortest first.
    public let windows: [Window]
    /// 1 − (bad events / bad events allowed) over the 30 d window: 1 untouched, 0 spent,
    /// below 0 overspent. 1 with no events. It counts what this process saw, so after a
    /// restart it covers only the time since.
    public let budgetRemaining: Double
    /// ``SLObjective/allowedDowntime(per:)`` for the average month (43.83 min at 99.9 %),
    /// 30 days (43.2 min) and 365 days (8.76 h), in nanoseconds.
    public let allowedDowntimePerMonth: UInt64
    public let allowedDowntimePer30Days: UInt64
    public let allowedDowntimePerYear: UInt64
    /// "43.8 min/month, 8.76 h/year".
    public let downtimeSummary: String
    public let alert: SLOAlert

    /// The report for counts per window (`counts(window)` is asked once for each).
    public init(objective: SLObjective, rules: [BurnRateRule] = BurnRateRule.workbook, counts: (SLOWindow) -> SLOCounts) {
        let budget = objective.errorBudget
        let windows = SLOWindow.allCases.map { Window(window: $0, counts: counts($0), errorBudget: budget) }
        self.objective = objective
        self.errorBudget = budget
        self.windows = windows
        self.budgetRemaining = 1 - (windows[windows.count - 1].burnRate ?? 0)
        self.allowedDowntimePerMonth = objective.allowedDowntime(per: .month)
        self.allowedDowntimePer30Days = objective.allowedDowntime(per: .thirtyDays)
        self.allowedDowntimePerYear = objective.allowedDowntime(per: .year)
        self.downtimeSummary = objective.downtimeSummary
        self.alert = SLOAlert(rules: rules) { window in windows.first { $0.window == window }?.burnRate }
    }

    /// The report of `windows` at `now`.
    public init(objective: SLObjective, rules: [BurnRateRule] = BurnRateRule.workbook, windows: SLOWindowSet, now: UInt64) {
        self.init(objective: objective, rules: rules) { windows.counts(window: $0, now: now) }
    }

    /// The entry for `window`.
    public func window(_ window: SLOWindow) -> Window {
        // Built from SLOWindow.allCases, so every window has an entry.
        windows.first { $0.window == window }!
    }
}
