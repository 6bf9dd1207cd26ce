import SluiceSLO
import Testing

@Suite struct BurnRateTests {
    static let threeNines = objective(0.999)

    /// 31 days of 1,000 requests a minute with `bad` of them failing, at 99.9 %.
    static func steady(bad: Int) -> SLOReport {
        var set = SLOWindowSet()
        let end = 31 * day
        var now: UInt64 = 0
        while now < end {
            set.record(good: true, count: 1_000 - bad, now: now)
            set.record(good: false, count: bad, now: now)
            now += minute
        }
        return SLOReport(objective: threeNines, windows: set, now: end - 1)
    }

    /// Bad requests per thousand (so the burn rate), the alert, the rule behind it and how many
    /// rules fire. At exactly the budget (burn 1) nothing fires: every rule wants more.
    static let steadyCases: [(Int, SLOAlertLevel, String?, Int)] = [
        (0, .none, nil, 0), (1, .none, nil, 0), (2, .ticket, "3d/6h", 1), (5, .ticket, "1d/2h", 2),
        (7, .page, "6h/30m", 3), (20, .page, "1h/5m", 4),
    ]

    @Test(arguments: steadyCases)
    func aSteadyErrorRatioBurnsAtTheSameRateInEveryWindow(bad: Int, level: SLOAlertLevel, rule: String?, firing: Int) {
        let report = Self.steady(bad: bad)
        for window in report.windows {
            #expect(close(window.errorRatio, Double(bad) / 1_000), "\(window.window)")
            #expect(close(window.burnRate, Double(bad)), "\(window.window)")
            #expect(window.total > 0 && window.total % 1_000 == 0)
        }
        #expect(close(report.budgetRemaining, 1 - Double(bad)))
        #expect(report.alert.level == level)
        #expect(report.alert.rule?.name == rule)
        #expect(report.alert.firing.count == firing)
    }

    @Test func budgetRemainingCountsBadEventsAgainstTheAllowance() {
        // 100,000 requests at 99.9 % allow 100 bad: 25 leave 75 %, 150 overspend by half.
        for (bad, remaining) in [(25, 0.75), (100, 0.0), (150, -0.5)] {
            var set = SLOWindowSet()
            set.record(good: true, count: 100_000 - bad, now: 2 * day)
            set.record(good: false, count: bad, now: 3 * day)
            let report = SLOReport(objective: Self.threeNines, windows: set, now: 3 * day)
            #expect(close(report.budgetRemaining, remaining), "\(bad) bad")
            #expect(report.window(.thirtyDays).good == 100_000 - bad)
            // Gone from the 30 d window, they no longer count.
            let later = SLOReport(objective: Self.threeNines, windows: set, now: 33 * day)
            #expect(later.budgetRemaining == 1 && later.window(.thirtyDays).burnRate == nil)
        }
    }

    @Test func noDataIsNotABurn() {
        let empty = SLOReport(objective: Self.threeNines, windows: SLOWindowSet(), now: 0)
        #expect(empty.windows.allSatisfy { $0.total == 0 && $0.errorRatio == nil && $0.burnRate == nil })
        #expect(empty.budgetRemaining == 1)
        #expect(empty.alert.level == .none && empty.alert.rule == nil && empty.alert.firing.isEmpty)
        // An outage, then silence: the hour still burns, the empty 5 m does not, so no page.
        var set = SLOWindowSet()
        set.record(good: false, count: 100, now: 0)
        let quiet = SLOReport(objective: Self.threeNines, windows: set, now: 10 * minute)
        #expect(quiet.window(.oneHour).burnRate == 1_000 && quiet.window(.fiveMinutes).burnRate == nil)
        #expect(!quiet.alert.firing.contains { $0.name == "1h/5m" })
        #expect(quiet.alert.level == .page && quiet.alert.rule?.name == "6h/30m")
    }

    @Test func theReportCarriesTheDowntimeFigures() {
        let report = SLOReport(objective: Self.threeNines, windows: SLOWindowSet(), now: 0)
        #expect(report.allowedDowntimePer30Days == 2_592 * second)
        #expect(report.allowedDowntimePerMonth == 2_629_800 * millisecond)
        #expect(report.allowedDowntimePerYear == 31_536 * second)
        #expect(report.downtimeSummary == "43.8 min/month, 8.76 h/year")
        #expect(report.errorBudget == 0.001)
    }
}
