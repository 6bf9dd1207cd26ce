/// The in-memory cache's keys and their sizes in bytes under one eviction policy: it decides
/// what to evict so that the bytes kept never exceed the capacity. It holds no values; the
/// caller drops the values of the keys it returns.
///
/// A value type, O(1) amortised per operation whatever the policy. The index gives each key
/// a slot number and the policy (`IndexPolicy`) orders slots in lists linked through one
/// array (`SlotNodes`). Only this key-to-slot layer is generic, and it is `@inlinable` so that
/// a caller's `EvictionIndex<CacheKey>` is specialised in the caller's module: generic code
/// left unspecialised across a module boundary looks up type metadata at run time, which made
/// every operation several times slower (see the cache-sim benchmark). Not thread-safe by
/// itself, like any struct: a cache shard owns one.
public struct EvictionIndex<Key: Hashable & Sendable>: Sendable {
    public let kind: EvictionKind
    @usableFromInline var capacity: Int
    @usableFromInline var policy: IndexPolicy
    @usableFromInline var slotOfKey: [Key: Int32] = [:]
    /// nil for a free slot.
    @usableFromInline var keyOfSlot: [Key?] = []
    @usableFromInline var freeSlots: [Int32] = []

    /// An empty index; `capacityBytes` must not be negative (0 keeps nothing).
    @inlinable
    public init(kind: EvictionKind, capacityBytes: Int) {
        precondition(capacityBytes >= 0, "capacityBytes must not be negative")
        self.kind = kind
        capacity = capacityBytes
        policy = IndexPolicy(kind)
    }

    /// The most bytes kept; change it with `setCapacity`.
    @inlinable
    public var capacityBytes: Int { capacity }

    /// Sum of the sizes of the keys kept; at most `capacityBytes` after every call.
    @inlinable
    public var usedBytes: Int { policy.usedBytes }

    /// Keys kept.
    @inlinable
    public var count: Int { policy.count }

    /// Whether `key` is kept (an S3-FIFO ghost key is not).
    @inlinable
    public func contains(_ key: Key) -> Bool {
        guard let slot = slotOfKey[key] else { return false }
        return policy.isKept(slot)
    }

    /// Records a hit on `key` (no-op when absent). Returns whether `key` is kept, so that a
    /// lookup and its hit are one probe.
    @inlinable
    @discardableResult
    public mutating func touch(_ key: Key) -> Bool {
        guard let slot = slotOfKey[key] else { return false }
        return policy.touch(slot)
    }

    /// Admits `key` of `size` bytes (replacing an existing entry of that key, which counts as
    /// a hit), and returns the keys that must be evicted so that `usedBytes <= capacityBytes`,
    /// in the order chosen; the caller drops their values.
    ///
    /// A key larger than the capacity is not kept: it comes back at once, alone, and an entry
    /// it replaced is forgotten, so one huge response cannot flush the cache. No policy here
    /// refuses a key that fits; a replaced key may come back if its new size overflows.
    @inlinable
    public mutating func insert(_ key: Key, size: Int) -> [Key] {
        precondition(size >= 0, "size must not be negative")
        guard size <= capacity else {
            remove(key)
            return [key]
        }
        var evicted: [Key] = []
        let known = slotOfKey[key]
        if let slot = known, policy.isKept(slot) {
            policy.replace(slot, size: size)
            evict(toFit: 0, into: &evicted)
        } else {
            // A known slot that is not kept is a ghost the policy remembers.
            let slot = known ?? allocate(key)
            evict(toFit: size, into: &evicted)
            policy.admit(slot, size: size, remembered: known != nil)
        }
        forgetHistory()
        return evicted
    }

    /// Forgets `key` (purge, invalidation, expiry). Returns whether it was kept.
    @inlinable
    @discardableResult
    public mutating func remove(_ key: Key) -> Bool {
        guard let slot = slotOfKey[key], policy.isKept(slot) else { return false }
        policy.remove(slot)
        free(slot)
        return true
    }

    /// Sets the capacity (a reload) and returns the keys evicted at once to fit a smaller one.
    @inlinable
    @discardableResult
    public mutating func setCapacity(_ bytes: Int) -> [Key] {
        precondition(bytes >= 0, "capacityBytes must not be negative")
        capacity = bytes
        var evicted: [Key] = []
        evict(toFit: 0, into: &evicted)
        forgetHistory()
        return evicted
    }

    /// Evicts until `incoming` more bytes fit, appending the victims' keys to `evicted`.
    @inlinable
    mutating func evict(toFit incoming: Int, into evicted: inout [Key]) {
        while policy.usedBytes + incoming > capacity, let victim = policy.evictOne(capacityBytes: capacity) {
            guard let key = keyOfSlot[Int(victim.slot)] else { preconditionFailure("evicted a free slot") }
            evicted.append(key)
            if !victim.remembered { free(victim.slot) }
        }
    }

    /// Frees the slots of the ghost keys the policy no longer remembers.
    @inlinable
    mutating func forgetHistory() {
        while let slot = policy.forgetHistory(capacityBytes: capacity) { free(slot) }
    }

    @inlinable
    mutating func allocate(_ key: Key) -> Int32 {
        let slot: Int32
        if let reused = freeSlots.popLast() {
            slot = reused
            keyOfSlot[Int(slot)] = key
        } else {
            precondition(keyOfSlot.count < Int(Int32.max), "more keys than an Int32 can number")
            slot = Int32(keyOfSlot.count)
            keyOfSlot.append(key)
        }
        slotOfKey[key] = slot
        return slot
    }

    @inlinable
    mutating func free(_ slot: Int32) {
        guard let key = keyOfSlot[Int(slot)] else { preconditionFailure("slot \(slot) is already free") }
        keyOfSlot[Int(slot)] = nil
        slotOfKey[key] = nil
        freeSlots.append(slot)
    }
}
