import SluiceSLO
import Testing

/// 6 h of healthy traffic at 10 requests a second, a 15 min total outage, then healthy again,
/// at 99.9 %, second by second on a driven clock. The pages come from the short windows' side
/// first and each rule clears exactly when the outage leaves its short window.
@Suite struct OutageTests {
    static let outageStart = 6 * hour
    static let outageEnd = outageStart + 15 * minute

    /// Records 10 requests at every whole second from `from` through `through`.
    static func traffic(_ tracker: SLOTracker, from: UInt64, through: UInt64, good: Bool) {
        var now = from
        while now <= through {
            tracker.record(good: good, count: 10, now: now)
            now += second
        }
    }

    @Test func thePageFiresOnceTheHourCatchesUpWithTheFiveMinutes() {
        let tracker = SLOTracker(objective: objective(0.999))
        Self.traffic(tracker, from: 0, through: Self.outageStart - second, good: true)
        #expect(tracker.report(now: Self.outageStart - second).alert.level == .none)
        var fiveMinutes: UInt64?, oneHour: UInt64?, page: UInt64?, pageRule: String?, slowPage: UInt64?
        var now = Self.outageStart
        while now < Self.outageEnd {
            tracker.record(good: false, count: 10, now: now)
            let report = tracker.report(now: now)
            let elapsed = now - Self.outageStart
            if fiveMinutes == nil, (report.window(.fiveMinutes).burnRate ?? 0) > 14.4 { fiveMinutes = elapsed }
            if oneHour == nil, (report.window(.oneHour).burnRate ?? 0) > 14.4 { oneHour = elapsed }
            if page == nil, report.alert.level == .page { (page, pageRule) = (elapsed, report.alert.rule?.name) }
            if slowPage == nil, report.alert.firing.contains(where: { $0.name == "6h/30m" }) { slowPage = elapsed }
            now += second
        }
        // 5 m crosses 14.4 within seconds; the hour needs 52 s of failures (1.44 % of it).
        #expect(fiveMinutes == 4 * second)
        #expect(oneHour == 51 * second)
        #expect(page == oneHour && pageRule == "1h/5m")
        // 6 h needs 0.6 % of six hours failed: about two minutes.
        #expect(slowPage == 124 * second)
    }

    @Test func eachRuleClearsAsTheOutageLeavesItsShortWindow() {
        let tracker = SLOTracker(objective: objective(0.999))
        Self.traffic(tracker, from: 0, through: Self.outageStart - second, good: true)
        Self.traffic(tracker, from: Self.outageStart, through: Self.outageEnd - second, good: false)
        var next = Self.outageEnd
        var now = next
        /// The alert's level and rule at `outageEnd + after`, healthy traffic recorded through it.
        func alert(after: UInt64) -> (SLOAlertLevel, String?) {
            now = Self.outageEnd + after
            while next <= now {
                tracker.record(good: true, count: 10, now: next)
                next += second
            }
            let alert = tracker.report(now: now).alert
            return (alert.level, alert.rule?.name)
        }
        #expect(alert(after: 0) == (.page, "1h/5m"))
        // The last failing 10 s bucket leaves the 5 m window 290 s on (5 m less a bucket),
        // while the hour still burns at 250: the short window is what clears the page.
        #expect(alert(after: 290 * second - 1) == (.page, "1h/5m"))
        #expect(alert(after: 290 * second) == (.page, "6h/30m"))
        #expect(tracker.report(now: now).window(.oneHour).burnRate.map { $0 > 200 } == true)
        #expect(alert(after: 29 * minute - 1) == (.page, "6h/30m"))
        #expect(alert(after: 29 * minute) == (.ticket, "1d/2h"))
        #expect(alert(after: 119 * minute - 1) == (.ticket, "1d/2h"))
        #expect(alert(after: 119 * minute) == (.ticket, "3d/6h"))
        #expect(alert(after: 5 * hour + 45 * minute - 1) == (.ticket, "3d/6h"))
        #expect(alert(after: 5 * hour + 45 * minute) == (.none, nil))
        let report = tracker.report(now: now)
        // 12 h and a second of traffic, 9,000 bad: 2 % bad against a 0.1 % budget.
        #expect(report.window(.thirtyDays).total == 432_010 && report.window(.thirtyDays).good == 423_010)
        #expect(close(report.budgetRemaining, 1 - 9_000.0 / 432_010 / 0.001))
    }

    @Test func withOnlyTheFastRuleThePageClearsAsTheFiveMinutesPass() {
        let fast = [BurnRateRule.workbook[0]]
        let tracker = SLOTracker(objective: objective(0.999), rules: fast)
        Self.traffic(tracker, from: 0, through: Self.outageStart - second, good: true)
        Self.traffic(tracker, from: Self.outageStart, through: Self.outageEnd - second, good: false)
        Self.traffic(tracker, from: Self.outageEnd, through: Self.outageEnd + 290 * second - 1, good: true)
        #expect(tracker.report(now: Self.outageEnd + 290 * second - 1).alert.level == .page)
        Self.traffic(tracker, from: Self.outageEnd + 290 * second, through: Self.outageEnd + 290 * second, good: true)
        #expect(tracker.report(now: Self.outageEnd + 290 * second).alert.level == .none)
    }
}
