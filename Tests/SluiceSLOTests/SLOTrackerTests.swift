import Dispatch
import SluiceSLO
import Testing

@Suite struct SLOTrackerTests {
    @Test func recordingFromSeveralThreadsTotalsExactly() {
        let tracker = SLOTracker(objective: objective(0.999))
        // Each thread walks 20 s of its own clock, so threads run ahead of one another across
        // a 10 s boundary and some records arrive after newer ones.
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for step in 0..<10_000 {
                tracker.record(good: step % 4 != 0, now: day + UInt64(step) * 2 * millisecond + UInt64(thread))
            }
        }
        for window in SLOWindow.allCases {
            #expect(tracker.counts(window: window, now: day + 20 * second) == SLOCounts(good: 60_000, total: 80_000))
        }
        #expect(close(tracker.report(now: day + 20 * second).window(.fiveMinutes).burnRate, 250))
    }

    @Test func requestsAreClassifiedByTheObjective() {
        let availability = SLOTracker(objective: objective(0.999))
        let latency = SLOTracker(objective: objective(0.99, .latency(threshold: 300 * millisecond)))
        for (status, duration) in [(200, 10 * millisecond), (503, millisecond), (200, 2 * second), (404, 299 * millisecond)] {
            availability.record(status: status, duration: duration, now: 0)
            latency.record(status: status, duration: duration, now: 0)
        }
        #expect(availability.counts(window: .fiveMinutes, now: 0) == SLOCounts(good: 3, total: 4))
        #expect(latency.counts(window: .fiveMinutes, now: 0) == SLOCounts(good: 3, total: 4))
        #expect(close(latency.report(now: 0).window(.oneHour).burnRate, 25))
    }

    @Test func theTrackersReportIsThePureOne() {
        let tracker = SLOTracker(objective: objective(0.995))
        var set = SLOWindowSet()
        for step in UInt64(0)..<5_000 {
            let now = step * 7 * second
            tracker.record(good: step % 97 != 0, now: now)
            set.record(good: step % 97 != 0, now: now)
        }
        let now = 5_000 * 7 * second
        #expect(tracker.report(now: now) == SLOReport(objective: objective(0.995), windows: set, now: now))
        #expect(tracker.bytes == 5_856)
    }
}
