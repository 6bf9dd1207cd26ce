/// Good and total events over some span of time.
public struct SLOCounts: Sendable, Equatable {
    public var good: Int
    public var total: Int

    public init(good: Int = 0, total: Int = 0) {
        self.good = good
        self.total = total
    }

    public var bad: Int { total - good }

    /// bad / total; nil when there were no events, which is no evidence either way.
    public var errorRatio: Double? { total > 0 ? Double(bad) / Double(total) : nil }
}

/// Good and total counts in a ring of `bucketCount` buckets of `bucketWidth` nanoseconds, so
/// memory is fixed (16 bytes a bucket) however much traffic comes.
///
/// A window of k buckets at `now` is the bucket `now` falls in plus the k − 1 before it: an
/// event counts for at least (k − 1) × width and less than k × width after it happened, and
/// windows slide a whole bucket at a time.
///
/// - Time jumping ahead by the whole ring or more clears it in one step, not bucket by bucket.
/// - A record older than the newest bucket (threads read the clock in one order and take the
///   lock in another) goes into its own bucket while the ring still holds it, so it expires
///   on time; older than the ring, it is in no window and is dropped.
/// - A read with a `now` older than the newest record reads as of the newest record.
public struct RollingCounter: Sendable, Equatable {
    private struct Bucket: Sendable, Equatable {
        var good = 0
        var total = 0
    }

    public let bucketWidth: UInt64
    public let bucketCount: Int
    private var buckets: [Bucket]
    /// The newest bucket number (time / `bucketWidth`) written; nil until the first record, so
    /// a clock starting at 0 needs no placeholder. Slot n % count holds bucket n for every n
    /// in (head − count, head]; the rest are cleared as head moves.
    private var head: UInt64?

    public init(bucketWidth: UInt64, bucketCount: Int) {
        self.bucketWidth = max(1, bucketWidth)
        self.bucketCount = max(1, bucketCount)
        self.buckets = Array(repeating: Bucket(), count: self.bucketCount)
    }

    /// The longest window the ring holds, in nanoseconds.
    public var span: UInt64 { bucketWidth * UInt64(bucketCount) }

    /// Bytes of counts the ring keeps. By count, not `capacity`: on Linux an array's capacity
    /// follows malloc's size classes and varies from run to run by a bucket or two.
    public var bytes: Int { bucketCount * MemoryLayout<Bucket>.stride }

    /// Counts `count` events (nothing unless `count` > 0) that ended at `now`.
    public mutating func record(good: Bool, count: Int = 1, now: UInt64) {
        guard count > 0 else { return }
        let bucket = now / bucketWidth
        if let head, bucket <= head {
            guard head - bucket < UInt64(bucketCount) else { return }
        } else {
            advance(to: bucket)
        }
        let index = slot(bucket)
        buckets[index].total += count
        if good { buckets[index].good += count }
    }

    /// Counts over the whole ring at `now`.
    public func counts(now: UInt64) -> SLOCounts { counts(lastBuckets: bucketCount, now: now) }

    /// Counts over the newest `lastBuckets` buckets (at most `bucketCount`) at `now`.
    public func counts(lastBuckets: Int, now: UInt64) -> SLOCounts {
        guard let head else { return SLOCounts() }
        let window = UInt64(min(max(lastBuckets, 0), bucketCount))
        let current = max(now / bucketWidth, head)
        // Buckets after head hold nothing yet; if the window starts after head it is empty.
        guard window > 0, current - head < window else { return SLOCounts() }
        let oldest = current >= window - 1 ? current - (window - 1) : 0
        var counts = SLOCounts()
        for bucket in oldest...head {
            let held = buckets[slot(bucket)]
            counts.good += held.good
            counts.total += held.total
        }
        return counts
    }

    private func slot(_ bucket: UInt64) -> Int { Int(bucket % UInt64(bucketCount)) }

    /// Moves head forward to `bucket`, clearing the slots of the buckets it passes.
    private mutating func advance(to bucket: UInt64) {
        if let head {
            if bucket - head >= UInt64(bucketCount) {
                for index in buckets.indices { buckets[index] = Bucket() }
            } else {
                for passed in (head + 1)...bucket { buckets[slot(passed)] = Bucket() }
            }
        }
        head = bucket
    }
}
