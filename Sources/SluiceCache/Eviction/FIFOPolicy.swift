/// First in, first out: entries leave in the order they were admitted. Hits and replacements
/// change nothing, which makes a hit free of writes but lets a hot object age out like a cold
/// one.
@usableFromInline
struct FIFOPolicy: EvictionPolicy {
    private var nodes = SlotNodes<Void>()
    /// Head: admitted last.
    private var order = SlotList()

    var usedBytes: Int { order.bytes }
    var count: Int { order.count }

    mutating func touch(_ slot: Int32) -> Bool { true }

    mutating func admit(_ slot: Int32, size: Int, remembered: Bool) {
        nodes.reset(slot, size: size, extra: ())
        nodes.pushHead(slot, &order)
    }

    mutating func replace(_ slot: Int32, size: Int) { nodes.resize(slot, to: size, &order) }

    mutating func remove(_ slot: Int32) { nodes.unlink(slot, &order) }

    mutating func evictOne(capacityBytes: Int) -> (slot: Int32, remembered: Bool)? {
        let victim = order.tail
        guard victim != SlotList.none else { return nil }
        nodes.unlink(victim, &order)
        return (victim, false)
    }
}
