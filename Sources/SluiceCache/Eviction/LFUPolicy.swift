/// Least frequently used, in O(1) per operation: the frequency-bucket scheme of Shah, Mitra
/// and Matani ("An O(1) algorithm for implementing the LFU cache eviction scheme", 2010).
///
/// Buckets, one per frequency in use, form a list in ascending frequency; each holds its
/// entries most recently used first. A hit moves an entry to the head of the bucket one
/// frequency up (made if missing, dropped when emptied), and the victim is the tail of the
/// lowest bucket: the least frequently used, ties to the least recently used.
///
/// Aging: every count halves (rounding up, so nothing drops below 1) once the accesses since
/// the last halving reach ten times the number of entries, TinyLFU's reset (Einziger,
/// Friedman and Manes, 2017) applied to exact counts. Without it an object that was hot once
/// keeps its count forever and outlives everything requested since; with it, a count is
/// roughly the requests of the last few periods. Halving rounds up so that the pairs of
/// frequencies 2k-1 and 2k meet in one bucket, merged by last use to keep the tie rule exact.
/// It is one pass over the buckets and their entries, without allocating, once per ten
/// accesses per entry: O(1) amortised, but a pause proportional to the entries kept.
/// Bounded counters alone would not age: an object at the bound still outranks everything
/// below it.
@usableFromInline
struct LFUPolicy: EvictionPolicy {
    struct Tag: Sendable {
        var bucket: Int32
        /// When it was last used, in accesses: orders the entries merged by a halving.
        var lastUse: UInt64
    }

    struct Bucket: Sendable {
        var frequency: UInt32
        /// Head: most recently used.
        var entries = SlotList()
        var lower = SlotList.none
        var higher = SlotList.none
    }

    /// Accesses between halvings, at least: a small cache should not halve on every request.
    static var minimumHalvingPeriod: Int { 1_024 }
    /// Accesses between halvings per entry kept.
    static var halvingPeriodPerEntry: Int { 10 }

    private var entries = SlotNodes<Tag>()
    private var buckets: [Bucket] = []
    private var firstFreeBucket = SlotList.none
    /// The bucket of the lowest frequency, the head of the bucket list.
    private var lowest = SlotList.none
    private(set) var usedBytes = 0
    private(set) var count = 0
    private var clock: UInt64 = 0
    private var accessesSinceHalving = 0

    mutating func touch(_ slot: Int32) -> Bool {
        promote(slot)
        noteAccess()
        return true
    }

    mutating func admit(_ slot: Int32, size: Int, remembered: Bool) {
        clock += 1
        let bucket = lowest != SlotList.none && buckets[Int(lowest)].frequency == 1
            ? lowest : makeBucket(frequency: 1, above: SlotList.none)
        entries.reset(slot, size: size, extra: Tag(bucket: bucket, lastUse: clock))
        entries.pushHead(slot, &buckets[Int(bucket)].entries)
        usedBytes += size
        count += 1
        noteAccess()
    }

    mutating func replace(_ slot: Int32, size: Int) {
        usedBytes += size - entries[slot].size
        entries.resize(slot, to: size, &buckets[Int(entries[slot].extra.bucket)].entries)
        promote(slot)
        noteAccess()
    }

    mutating func remove(_ slot: Int32) { forget(slot) }

    mutating func evictOne(capacityBytes: Int) -> (slot: Int32, remembered: Bool)? {
        guard lowest != SlotList.none else { return nil }
        let victim = buckets[Int(lowest)].entries.tail
        forget(victim)
        return (victim, false)
    }

    // MARK: Buckets

    /// Moves `slot` to the head of the bucket one frequency up.
    private mutating func promote(_ slot: Int32) {
        clock += 1
        entries[slot].extra.lastUse = clock
        let from = entries[slot].extra.bucket
        let frequency = buckets[Int(from)].frequency
        guard frequency < UInt32.max else {
            entries.moveToHead(slot, &buckets[Int(from)].entries)
            return
        }
        entries.unlink(slot, &buckets[Int(from)].entries)
        let higher = buckets[Int(from)].higher
        let to: Int32
        if higher != SlotList.none && buckets[Int(higher)].frequency == frequency + 1 {
            to = higher
        } else if buckets[Int(from)].entries.count == 0 {
            // Alone in its bucket: the bucket moves up instead, still below `higher`.
            buckets[Int(from)].frequency = frequency + 1
            to = from
        } else {
            to = makeBucket(frequency: frequency + 1, above: from)
        }
        entries[slot].extra.bucket = to
        entries.pushHead(slot, &buckets[Int(to)].entries)
        if to != from && buckets[Int(from)].entries.count == 0 { dropBucket(from) }
    }

    /// Unlinks `slot`, dropping its bucket if that empties it.
    private mutating func forget(_ slot: Int32) {
        let bucket = entries[slot].extra.bucket
        usedBytes -= entries[slot].size
        count -= 1
        entries.unlink(slot, &buckets[Int(bucket)].entries)
        if buckets[Int(bucket)].entries.count == 0 { dropBucket(bucket) }
    }

    /// A new empty bucket linked just above `lower` (at the bottom when `lower` is none).
    private mutating func makeBucket(frequency: UInt32, above lower: Int32) -> Int32 {
        let higher = lower == SlotList.none ? lowest : buckets[Int(lower)].higher
        let bucket: Int32
        if firstFreeBucket != SlotList.none {
            bucket = firstFreeBucket
            firstFreeBucket = buckets[Int(bucket)].higher
            buckets[Int(bucket)] = Bucket(frequency: frequency, lower: lower, higher: higher)
        } else {
            bucket = Int32(buckets.count)
            buckets.append(Bucket(frequency: frequency, lower: lower, higher: higher))
        }
        if lower != SlotList.none { buckets[Int(lower)].higher = bucket } else { lowest = bucket }
        if higher != SlotList.none { buckets[Int(higher)].lower = bucket }
        return bucket
    }

    /// Unlinks an empty bucket and frees it.
    private mutating func dropBucket(_ bucket: Int32) {
        let lower = buckets[Int(bucket)].lower
        let higher = buckets[Int(bucket)].higher
        if lower != SlotList.none { buckets[Int(lower)].higher = higher } else { lowest = higher }
        if higher != SlotList.none { buckets[Int(higher)].lower = lower }
        buckets[Int(bucket)].higher = firstFreeBucket
        firstFreeBucket = bucket
    }

    // MARK: Aging

    private mutating func noteAccess() {
        accessesSinceHalving += 1
        if accessesSinceHalving >= max(Self.minimumHalvingPeriod, Self.halvingPeriodPerEntry * count) {
            halveFrequencies()
        }
    }

    /// Halves every frequency, rounding up, merging the buckets that come to share one.
    mutating func halveFrequencies() {
        accessesSinceHalving = 0
        var previous = SlotList.none
        var bucket = lowest
        while bucket != SlotList.none {
            let higher = buckets[Int(bucket)].higher
            let frequency = buckets[Int(bucket)].frequency
            buckets[Int(bucket)].frequency = frequency / 2 + frequency % 2
            if previous != SlotList.none && buckets[Int(previous)].frequency == buckets[Int(bucket)].frequency {
                merge(bucket, into: previous)
                dropBucket(bucket)
            } else {
                previous = bucket
            }
            bucket = higher
        }
    }

    /// Moves the entries of `source` into `target`, both most recently used first, keeping
    /// that order across the two.
    private mutating func merge(_ source: Int32, into target: Int32) {
        var merged = SlotList()
        var fromTarget = buckets[Int(target)].entries.head
        var fromSource = buckets[Int(source)].entries.head
        while fromTarget != SlotList.none || fromSource != SlotList.none {
            let takeTarget = fromSource == SlotList.none
                || (fromTarget != SlotList.none && entries[fromTarget].extra.lastUse > entries[fromSource].extra.lastUse)
            let slot = takeTarget ? fromTarget : fromSource
            if takeTarget { fromTarget = entries[slot].next } else { fromSource = entries[slot].next }
            entries[slot].extra.bucket = target
            entries.pushTail(slot, &merged)
        }
        buckets[Int(target)].entries = merged
        buckets[Int(source)].entries = SlotList()
    }
}
