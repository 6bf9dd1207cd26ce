/// S3-FIFO, as in Yang, Zhang, Qiu, Yue and Vinayak, "FIFO queues are all you need for cache
/// eviction", SOSP 2023, §4.1 and Algorithm 1, with sizes counted in bytes.
///
/// - Small queue S, a tenth of the capacity, and main queue M, the rest: both FIFO. Their
///   bytes together are what the capacity bounds; the split only steers which one evicts.
/// - Ghost queue G: keys only, no bytes, as many entries as M holds (below).
/// - A hit adds one to the entry's counter, capped at 3 (two bits in the paper). Nothing
///   moves on a hit: promotion is lazy, at eviction time.
/// - A miss goes to M if its key is in G (leaving G), else to S.
/// - Eviction takes from S while S holds at least its tenth, else from M.
/// - From S (the paper's EVICTS): the tail moves to M's head with its counter cleared if it was
///   "accessed more than once" (counter > 1, §4.1: "moved to M if it is accessed more than
///   once or G if not. And its access bits are cleared during the move"), and the next tail is
///   looked at; otherwise it leaves the cache and its key joins G's head. So an object
///   requested once, or twice, leaves through S without touching M: quick demotion.
/// - From M (EVICTM): a tail with counter > 0 goes back to the head with counter − 1 ("similar
///   to FIFO-Reinsertion ... reinserted with one bit set to 0, similar to decreasing
///   frequency by 1"); the first tail at 0 leaves.
///
/// G's bound: the paper gives G "the same number of ghost entries as M" with M's capacity in
/// objects. With sizes in bytes M's capacity in objects is estimated as M's share of the
/// capacity over the mean size kept, or M's actual count when that is larger; once the
/// cache is warm the two agree, and the estimate keeps G useful while M is still filling.
///
/// Replacing a kept key counts as a hit. Removing a key forgets it from S or M; a ghost entry
/// of it stays (it holds no value, only the fact that the key was wanted). G is trimmed after
/// each insertion (`forgetHistory`), so a key found in G when it is requested again is still
/// there when it is admitted, whatever that insertion evicts.
@usableFromInline
struct S3FIFOPolicy: EvictionPolicy {
    enum Queue: UInt8, Sendable { case small, main, ghost }

    struct Tag: Sendable {
        var queue: Queue
        /// Hits since admission or the last look at eviction, 0...3.
        var frequency: UInt8
    }

    static var maximumFrequency: UInt8 { 3 }
    /// The counter an entry of S needs to move to M rather than leave: "accessed more than
    /// once" (§4.1).
    static var promotionThreshold: UInt8 { 2 }

    /// S's share of the capacity (§4.1: "S to use 10% of the cache space").
    static func smallShare(of capacityBytes: Int) -> Int { capacityBytes / 10 }

    private var nodes = SlotNodes<Tag>()
    private var small = SlotList()
    private var main = SlotList()
    private var ghost = SlotList()

    var usedBytes: Int { small.bytes + main.bytes }
    var count: Int { small.count + main.count }

    func isKept(_ slot: Int32) -> Bool { nodes[slot].extra.queue != .ghost }

    mutating func touch(_ slot: Int32) -> Bool {
        guard nodes[slot].extra.queue != .ghost else { return false }
        nodes[slot].extra.frequency = min(nodes[slot].extra.frequency + 1, Self.maximumFrequency)
        return true
    }

    mutating func admit(_ slot: Int32, size: Int, remembered: Bool) {
        // A remembered slot is one of G's: a ghost hit, which goes to M.
        if remembered { nodes.unlink(slot, &ghost) }
        nodes.reset(slot, size: size, extra: Tag(queue: remembered ? .main : .small, frequency: 0))
        if remembered { nodes.pushHead(slot, &main) } else { nodes.pushHead(slot, &small) }
    }

    mutating func replace(_ slot: Int32, size: Int) {
        switch nodes[slot].extra.queue {
        case .small: nodes.resize(slot, to: size, &small)
        case .main: nodes.resize(slot, to: size, &main)
        case .ghost: return
        }
        _ = touch(slot)
    }

    mutating func remove(_ slot: Int32) {
        switch nodes[slot].extra.queue {
        case .small: nodes.unlink(slot, &small)
        case .main: nodes.unlink(slot, &main)
        case .ghost: break
        }
    }

    mutating func evictOne(capacityBytes: Int) -> (slot: Int32, remembered: Bool)? {
        if small.count > 0 && (small.bytes >= Self.smallShare(of: capacityBytes) || main.count == 0),
            let victim = evictSmall()
        {
            return (victim, true)
        }
        return evictMain().map { ($0, false) }
    }

    /// Drops G's oldest key while G holds more than M would in objects (see the type's
    /// comment).
    mutating func forgetHistory(capacityBytes: Int) -> Int32? {
        let meanSize = count > 0 ? max(1, usedBytes / count) : 1
        let bound = max(main.count, (capacityBytes - Self.smallShare(of: capacityBytes)) / meanSize)
        guard ghost.count > bound else { return nil }
        let oldest = ghost.tail
        nodes.unlink(oldest, &ghost)
        return oldest
    }

    /// The paper's EVICTS: moves tails of S hit more than once to M until a tail leaves, to
    /// G. nil when S empties into M first.
    private mutating func evictSmall() -> Int32? {
        while small.tail != SlotList.none {
            let slot = small.tail
            nodes.unlink(slot, &small)
            if nodes[slot].extra.frequency >= Self.promotionThreshold {
                nodes[slot].extra = Tag(queue: .main, frequency: 0)
                nodes.pushHead(slot, &main)
            } else {
                // Leaves the cache; the slot stays as the key's ghost entry, with no bytes.
                nodes[slot].size = 0
                nodes[slot].extra = Tag(queue: .ghost, frequency: 0)
                nodes.pushHead(slot, &ghost)
                return slot
            }
        }
        return nil
    }

    /// The paper's EVICTM: reinserts tails of M that were hit, one less each time, until a
    /// tail at 0 leaves. nil only when M is empty.
    private mutating func evictMain() -> Int32? {
        while main.tail != SlotList.none {
            let slot = main.tail
            if nodes[slot].extra.frequency > 0 {
                nodes[slot].extra.frequency -= 1
                nodes.moveToHead(slot, &main)
            } else {
                nodes.unlink(slot, &main)
                return slot
            }
        }
        return nil
    }
}
