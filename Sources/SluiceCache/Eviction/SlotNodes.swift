/// A policy's entries as nodes of one array, indexed by the slot numbers `EvictionIndex` gives
/// its keys, and linked into lists by index.
///
/// No object per entry: a million entries are one array, not a million allocations, a copy is
/// a copy-on-write, and `Sendable` holds without locks. The index owns the slot numbers and
/// the keys; a node is only a size, two links and the policy's own state (`Extra`).
struct SlotNodes<Extra: Sendable>: Sendable {
    struct Node: Sendable {
        var size: Int
        var previous: Int32
        var next: Int32
        /// The policy's own per-entry state (queue, counter, bucket).
        var extra: Extra
    }

    private var nodes: [Node] = []

    subscript(slot: Int32) -> Node {
        get { nodes[Int(slot)] }
        _modify { yield &nodes[Int(slot)] }
    }

    /// Makes `slot` a node of `size` on no list, growing the array when the index hands out a
    /// new slot number (it hands them out in order, reusing freed ones first).
    mutating func reset(_ slot: Int32, size: Int, extra: Extra) {
        let node = Node(size: size, previous: SlotList.none, next: SlotList.none, extra: extra)
        if Int(slot) < nodes.count {
            nodes[Int(slot)] = node
        } else {
            nodes.append(contentsOf: repeatElement(node, count: Int(slot) - nodes.count + 1))
        }
    }

    /// Links `slot` in front of `list`'s head: it becomes the newest.
    mutating func pushHead(_ slot: Int32, _ list: inout SlotList) {
        self[slot].previous = SlotList.none
        self[slot].next = list.head
        if list.head != SlotList.none { self[list.head].previous = slot } else { list.tail = slot }
        list.head = slot
        list.count += 1
        list.bytes += self[slot].size
    }

    /// Links `slot` after `list`'s tail: it becomes the next to go.
    mutating func pushTail(_ slot: Int32, _ list: inout SlotList) {
        self[slot].next = SlotList.none
        self[slot].previous = list.tail
        if list.tail != SlotList.none { self[list.tail].next = slot } else { list.head = slot }
        list.tail = slot
        list.count += 1
        list.bytes += self[slot].size
    }

    /// Takes `slot` out of `list`, which must hold it.
    mutating func unlink(_ slot: Int32, _ list: inout SlotList) {
        let previous = self[slot].previous
        let next = self[slot].next
        if previous != SlotList.none { self[previous].next = next } else { list.head = next }
        if next != SlotList.none { self[next].previous = previous } else { list.tail = previous }
        self[slot].previous = SlotList.none
        self[slot].next = SlotList.none
        list.count -= 1
        list.bytes -= self[slot].size
    }

    /// Makes `slot`, on `list`, its newest.
    mutating func moveToHead(_ slot: Int32, _ list: inout SlotList) {
        guard list.head != slot else { return }
        unlink(slot, &list)
        pushHead(slot, &list)
    }

    /// Changes the size of `slot`, on `list`, keeping `list.bytes` the sum of its sizes.
    mutating func resize(_ slot: Int32, to size: Int, _ list: inout SlotList) {
        list.bytes += size - self[slot].size
        self[slot].size = size
    }
}

/// One doubly-linked list threaded through `SlotNodes`: the head is the newest entry, the tail
/// the oldest. It counts its entries and bytes so that no policy has to walk it.
struct SlotList: Sendable {
    /// The index that means "no slot".
    static let none: Int32 = -1

    var head = SlotList.none
    var tail = SlotList.none
    var count = 0
    var bytes = 0
}
