import SluiceSLO
import Testing

@Suite struct SLObjectiveTests {
    /// 0.9999999999999 (thirteen nines) leaves under 10⁻¹² of budget, which rounds to none.
    @Test(arguments: [0, 1, 1.5, -0.1, .nan, .infinity, 0.999_999_999_999_9])
    func aTargetOutsideZeroToOneIsRefused(_ target: Double) {
        #expect(SLObjective(target: target) == nil)
    }

    @Test func aLatencyThresholdOfZeroIsRefused() {
        #expect(SLObjective(target: 0.99, kind: .latency(threshold: 0)) == nil)
        #expect(SLObjective(target: 0.99, kind: .latency(threshold: 1))?.errorBudget == 0.01)
        #expect(objective(0.999).errorBudget == 0.001)
    }

    @Test func availabilityCountsEvery5xxAndNothingElse() {
        let availability = objective(0.999)
        for status in [100, 200, 204, 301, 304, 400, 404, 429, 499] {
            #expect(availability.isGood(status: status, duration: hour), "status \(status)")
        }
        // 502, 503 and 504 are what Sluice answers itself when a backend fails it.
        for status in [500, 501, 502, 503, 504, 599] {
            #expect(!availability.isGood(status: status, duration: 0), "status \(status)")
        }
    }

    @Test func latencyIsGoodStrictlyUnderTheThresholdWhateverTheStatus() {
        let latency = objective(0.99, .latency(threshold: 300 * millisecond))
        #expect(latency.isGood(status: 200, duration: 300 * millisecond - 1))
        #expect(!latency.isGood(status: 200, duration: 300 * millisecond))
        #expect(latency.isGood(status: 503, duration: millisecond))
        #expect(!latency.isGood(status: 504, duration: 30 * second))
    }

    /// Target, then downtime per 30 days, average month and 365-day year in milliseconds
    /// (exact), then the text of each.
    static let figures: [(Double, [UInt64], [String])] = [
        (0.999, [2_592_000, 2_629_800, 31_536_000], ["43.2 min", "43.8 min", "8.76 h"]),
        (0.9999, [259_200, 262_980, 3_153_600], ["4.32 min", "4.38 min", "52.6 min"]),
        (0.99, [25_920_000, 26_298_000, 315_360_000], ["7.20 h", "7.31 h", "3.65 d"]),
        (0.99999, [25_920, 26_298, 315_360], ["25.9 s", "26.3 s", "5.26 min"]),
    ]

    @Test(arguments: figures)
    func allowedDowntimeIsExact(_ target: Double, _ milliseconds: [UInt64], _ texts: [String]) {
        let slo = objective(target)
        let periods: [SLObjective.Period] = [.thirtyDays, .month, .year]
        #expect(periods.map { slo.allowedDowntime(per: $0) } == milliseconds.map { $0 * millisecond })
        #expect(periods.map { slo.allowedDowntimeText(per: $0) } == texts)
    }

    @Test func threeNinesIsTheFigureTheIssueQuotes() {
        let slo = objective(0.999)
        // 43.2 min per 30 days, 43.83 per average month (365.25 / 12 days), 8.76 h per year.
        #expect(Double(slo.allowedDowntime(per: .thirtyDays)) / Double(minute) == 43.2)
        #expect(Double(slo.allowedDowntime(per: .month)) / Double(minute) == 43.83)
        #expect(Double(slo.allowedDowntime(per: .year)) / Double(hour) == 8.76)
        #expect(SLObjective.Period.month.length == 2_629_800 * second)
        #expect(slo.downtimeSummary == "43.8 min/month, 8.76 h/year")
        #expect(objective(0.9999999).allowedDowntimeText(per: .thirtyDays) == "259 ms")
        #expect(objective(0.999999999).allowedDowntimeText(per: .thirtyDays) == "2.59 ms")
    }
}
