/// Least recently used: one list, a hit or a replacement moves the entry to the head, the tail
/// goes first.
@usableFromInline
struct LRUPolicy: EvictionPolicy {
    private var nodes = SlotNodes<Void>()
    /// Head: most recently used.
    private var order = SlotList()

    var usedBytes: Int { order.bytes }
    var count: Int { order.count }

    mutating func touch(_ slot: Int32) -> Bool {
        nodes.moveToHead(slot, &order)
        return true
    }

    mutating func admit(_ slot: Int32, size: Int, remembered: Bool) {
        nodes.reset(slot, size: size, extra: ())
        nodes.pushHead(slot, &order)
    }

    mutating func replace(_ slot: Int32, size: Int) {
        nodes.resize(slot, to: size, &order)
        nodes.moveToHead(slot, &order)
    }

    mutating func remove(_ slot: Int32) { nodes.unlink(slot, &order) }

    mutating func evictOne(capacityBytes: Int) -> (slot: Int32, remembered: Bool)? {
        let victim = order.tail
        guard victim != SlotList.none else { return nil }
        nodes.unlink(victim, &order)
        return (victim, false)
    }
}
