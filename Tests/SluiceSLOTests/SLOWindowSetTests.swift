import SluiceSLO
import Testing

@Suite struct SLOWindowSetTests {
    /// A start on every ring's bucket boundary (a multiple of 6 h).
    static let start: UInt64 = 100 * day

    @Test(arguments: SLOWindow.allCases)
    func anEventCountsForTheWindowToOneBucket(_ window: SLOWindow) {
        var set = SLOWindowSet()
        // One at the start of a bucket counts for the whole window; one at its last
        // nanosecond for the window less a bucket (plus that nanosecond).
        set.record(good: true, now: Self.start)
        set.record(good: false, now: Self.start + window.resolution - 1)
        let expiry = Self.start + window.length
        #expect(set.counts(window: window, now: expiry - 1) == SLOCounts(good: 1, total: 2))
        #expect(set.counts(window: window, now: expiry) == SLOCounts())
        #expect(window.length % window.resolution == 0)
    }

    @Test func eachWindowExpiresOnItsOwnSchedule() {
        var set = SLOWindowSet()
        set.record(good: false, count: 3, now: Self.start)
        let at = Self.start + 5 * minute
        let live = SLOWindow.allCases.filter { set.counts(window: $0, now: at).total == 3 }
        #expect(live == SLOWindow.allCases.filter { $0 != .fiveMinutes })
        let later = Self.start + 29 * day
        #expect(SLOWindow.allCases.filter { set.counts(window: $0, now: later).total == 3 } == [.thirtyDays])
    }

    @Test func everyWindowSeesARecordFromAnyRing() {
        var set = SLOWindowSet()
        for step in UInt64(0)..<1_000 { set.record(good: step % 10 != 0, now: Self.start + step * 100 * millisecond) }
        for window in SLOWindow.allCases {
            #expect(set.counts(window: window, now: Self.start + 100 * second) == SLOCounts(good: 900, total: 1_000))
        }
    }

    @Test func memoryIs366BucketsOf16Bytes() {
        // 366 buckets; malloc may round a ring's storage up to its size class (seen: one bucket).
        let bytes = SLOWindowSet().bytes
        #expect(bytes >= 366 * 16 && bytes <= 366 * 16 + 4 * 32, "\(bytes)")
        #expect(SLOWindow.allCases.map(\.rawValue) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"])
    }
}
