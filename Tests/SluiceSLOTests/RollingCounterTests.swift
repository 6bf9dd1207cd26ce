import SluiceSLO
import Testing

/// A ring of six 10 s buckets (a 60 s window), driven by hand.
@Suite struct RollingCounterTests {
    static func ring() -> RollingCounter { RollingCounter(bucketWidth: 10 * second, bucketCount: 6) }

    @Test func countsAreExactAcrossBucketBoundariesAndExpireWithTheirBucket() {
        var ring = Self.ring()
        ring.record(good: true, now: 0)
        ring.record(good: false, now: 10 * second - 1)
        ring.record(good: true, now: 10 * second)
        #expect(ring.counts(now: 60 * second - 1) == SLOCounts(good: 2, total: 3))
        // Bucket 0 (both of the first two) leaves the window whole at 60 s.
        #expect(ring.counts(now: 60 * second) == SLOCounts(good: 1, total: 1))
        #expect(ring.counts(now: 70 * second - 1) == SLOCounts(good: 1, total: 1))
        #expect(ring.counts(now: 70 * second) == SLOCounts())
    }

    @Test func aShorterWindowTakesTheNewestBuckets() {
        var ring = Self.ring()
        for step in UInt64(0)..<6 { ring.record(good: step % 2 == 0, now: step * 10 * second) }
        #expect(ring.counts(lastBuckets: 2, now: 55 * second) == SLOCounts(good: 1, total: 2))
        #expect(ring.counts(lastBuckets: 1, now: 50 * second) == SLOCounts(good: 0, total: 1))
        // Before the newest record was made, the two newest buckets were 30 s and 40 s.
        #expect(ring.counts(lastBuckets: 2, now: 65 * second) == SLOCounts(good: 0, total: 1))
        #expect(ring.counts(lastBuckets: 0, now: 55 * second) == SLOCounts())
        #expect(ring.counts(lastBuckets: 99, now: 55 * second) == ring.counts(now: 55 * second))
    }

    @Test func aJumpOfTheWholeRingOrMoreExpiresEverything() {
        var ring = Self.ring()
        for step in UInt64(0)..<60 { ring.record(good: false, now: step * second) }
        #expect(ring.counts(now: 59 * second).total == 60)
        #expect(ring.counts(now: 120 * second) == SLOCounts())
        ring.record(good: true, now: 10 * hour)
        #expect(ring.counts(now: 10 * hour) == SLOCounts(good: 1, total: 1))
        // Exactly one ring later: the slot is reused, the old count gone.
        ring.record(good: true, now: 10 * hour + 60 * second)
        #expect(ring.counts(now: 10 * hour + 60 * second) == SLOCounts(good: 1, total: 1))
    }

    @Test func aPartialJumpClearsOnlyTheBucketsItPasses() {
        var ring = Self.ring()
        for step in UInt64(0)..<6 { ring.record(good: true, now: step * 10 * second) }
        ring.record(good: false, now: 80 * second)
        // Buckets 3, 4, 5 survive; 6 and 7 are empty; 8 is new.
        #expect(ring.counts(now: 80 * second) == SLOCounts(good: 3, total: 4))
    }

    @Test func aLateRecordGoesToItsOwnBucketAndExpiresOnTime() {
        var inOrder = Self.ring()
        inOrder.record(good: false, now: 9 * second)
        inOrder.record(good: true, now: 15 * second)
        var late = Self.ring()
        late.record(good: true, now: 15 * second)
        late.record(good: false, now: 9 * second)
        #expect(late == inOrder)
        #expect(late.counts(now: 60 * second - 1) == SLOCounts(good: 1, total: 2))
        #expect(late.counts(now: 60 * second) == SLOCounts(good: 1, total: 1))
    }

    @Test func aRecordOlderThanTheRingIsInNoWindow() {
        var ring = Self.ring()
        ring.record(good: true, now: 100 * second)
        // Bucket 4 is six before bucket 10, its slot already reused; bucket 5 is still held.
        ring.record(good: false, now: 49 * second)
        ring.record(good: false, now: 50 * second)
        #expect(ring.counts(now: 100 * second) == SLOCounts(good: 1, total: 2))
    }

    @Test func aReadOlderThanTheNewestRecordReadsAsOfThatRecord() {
        var ring = Self.ring()
        ring.record(good: true, now: 100 * second)
        #expect(ring.counts(now: 95 * second) == SLOCounts(good: 1, total: 1))
        #expect(ring.counts(now: 0) == SLOCounts(good: 1, total: 1))
    }

    @Test func aFreshRingIsEmptyAndTimeZeroIsARealTime() {
        var ring = Self.ring()
        #expect(ring.counts(now: 0) == SLOCounts())
        #expect(ring.counts(now: .max) == SLOCounts())
        ring.record(good: false, count: 5, now: 0)
        ring.record(good: true, count: 0, now: 0)
        ring.record(good: true, count: -3, now: 0)
        #expect(ring.counts(now: 0) == SLOCounts(good: 0, total: 5))
        #expect(ring.counts(now: 0).errorRatio == 1)
        #expect(SLOCounts().errorRatio == nil)
        #expect(ring.span == 60 * second)
    }
}
