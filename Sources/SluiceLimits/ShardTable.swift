import SluiceBalancing
/// One shard of `LocalLimitStore`: an open-addressing hash table over one flat buffer of
/// UInt64 words.
///
/// Slot i is `stride` words from i × stride: the key (0 = empty), when it was last seen, then
/// the policy's tier states. The buffer is cache-line aligned, so 4- and 8-word slots never
/// straddle two lines; others are not padded, as bytes per key matter more than a second,
/// adjacent line. Linear probing from a key's home slot; deletion shifts the rest of the
/// probe run back (no tombstones, so lookups never slow down with churn). The table doubles
/// when an insert would fill more than 3/4 of it, up to the slots `maxKeys` needs at 3/4; the
/// slot count need not be a power of two, as the home is a multiply-shift of the key.
struct ShardTable: ~Copyable {
    let stateWords: Int
    let stride: Int
    let maxKeys: Int
    let maxSlots: Int
    private(set) var slotCount: Int
    private(set) var count = 0
    private var words: UnsafeMutablePointer<UInt64>
    var random: SplitMix64
    private var sweepCursor = 0

    /// Occupied slots the eviction looks at.
    static let evictionSamples = 8
    /// Slots the idle sweep looks at per insert.
    static let sweepStepSlots = 2

    init(stateWords: Int, maxKeys: Int, seed: UInt64) {
        self.stateWords = stateWords
        self.stride = 2 + stateWords
        self.maxKeys = max(1, maxKeys)
        self.maxSlots = max(self.maxKeys + 1, (self.maxKeys * 4 + 2) / 3)
        self.slotCount = min(16, maxSlots)
        self.words = Self.allocate(slots: slotCount, stride: stride)
        self.random = SplitMix64(seed: seed)
    }

    deinit { UnsafeMutableRawPointer(words).deallocate() }

    /// The bytes the buffer holds.
    var bytes: Int { slotCount * stride * MemoryLayout<UInt64>.stride }

    private static func allocate(slots: Int, stride: Int) -> UnsafeMutablePointer<UInt64> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: slots * stride * 8, alignment: 64)
        let words = raw.bindMemory(to: UInt64.self, capacity: slots * stride)
        words.initialize(repeating: 0, count: slots * stride)
        return words
    }

    @inline(__always)
    func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: key.multipliedFullWidth(by: UInt64(slotCount)).high) }

    @inline(__always)
    func next(_ slot: Int) -> Int { slot + 1 == slotCount ? 0 : slot + 1 }

    func key(at slot: Int) -> UInt64 { words[slot * stride] }

    func lastSeen(at slot: Int) -> UInt64 { words[slot * stride + 1] }

    /// The key's slot, or where the probe ended (an empty slot) and false.
    @inline(__always)
    func find(_ key: UInt64) -> (slot: Int, found: Bool) {
        var slot = home(key)
        while true {
            let stored = words[slot * stride]
            if stored == key { return (slot, true) }
            if stored == 0 { return (slot, false) }
            slot = next(slot)
        }
    }

    @inline(__always)
    func isIdle(_ slot: Int, now: UInt64, idleAfter: UInt64) -> Bool {
        let seen = words[slot * stride + 1]
        return now >= seen && now - seen >= idleAfter
    }

    @inline(__always)
    func state(at slot: Int) -> LimitState {
        var state = LimitState()
        let base = slot * stride + 2
        for word in 0..<stateWords { state.words[word] = words[base + word] }
        return state
    }

    @inline(__always)
    mutating func store(_ state: LimitState, at slot: Int, now: UInt64) {
        let base = slot * stride
        words[base + 1] = max(words[base + 1], now)
        for word in 0..<stateWords { words[base + 2 + word] = state.words[word] }
    }

    /// Adds `key`, which must be absent: first sweeps a few slots for idle keys, then evicts
    /// if the shard is full, then grows if it is 3/4 full.
    mutating func insert(_ key: UInt64, state: LimitState, now: UInt64, idleAfter: UInt64) {
        sweepStep(now: now, idleAfter: idleAfter)
        if count >= maxKeys {
            var random = self.random
            evictOne(using: &random)
            self.random = random
        }
        if (count + 1) * 4 > slotCount * 3, slotCount < maxSlots { resize(to: min(slotCount * 2, maxSlots)) }
        var slot = home(key)
        while words[slot * stride] != 0 { slot = next(slot) }
        words[slot * stride] = key
        words[slot * stride + 1] = 0
        store(state, at: slot, now: now)
        count += 1
    }

    /// Empties `slot` and shifts back each later key of its probe run that may move closer
    /// to its home, so every key stays reachable from its home without gaps.
    mutating func remove(at slot: Int) {
        var hole = slot
        var probe = slot
        while true {
            probe = next(probe)
            let key = words[probe * stride]
            if key == 0 { break }
            let start = home(key)
            let fromHome = probe >= start ? probe - start : probe + slotCount - start
            let fromHole = probe >= hole ? probe - hole : probe + slotCount - hole
            if fromHome >= fromHole {
                (words + hole * stride).update(from: words + probe * stride, count: stride)
                hole = probe
            }
        }
        (words + hole * stride).update(repeating: 0, count: stride)
        count -= 1
    }

    /// Sampled LRU: of `evictionSamples` occupied slots drawn at random, removes the one
    /// seen longest ago (an idle one, if any was drawn). Returns the evicted key.
    @discardableResult
    mutating func evictOne(using random: inout some RandomNumberGenerator) -> UInt64 {
        guard count > 0 else { return 0 }
        var victim = 0
        var oldest = UInt64.max
        for _ in 0..<Self.evictionSamples {
            var slot = Int(truncatingIfNeeded: random.next().multipliedFullWidth(by: UInt64(slotCount)).high)
            while words[slot * stride] == 0 { slot = next(slot) }
            if lastSeen(at: slot) < oldest || oldest == .max {
                oldest = lastSeen(at: slot)
                victim = slot
            }
        }
        let evicted = key(at: victim)
        remove(at: victim)
        return evicted
    }

    /// Looks at the next few slots of a cursor that cycles the table, removing idle keys.
    mutating func sweepStep(now: UInt64, idleAfter: UInt64) {
        for _ in 0..<Self.sweepStepSlots {
            if sweepCursor >= slotCount { sweepCursor = 0 }
            if words[sweepCursor * stride] != 0, isIdle(sweepCursor, now: now, idleAfter: idleAfter) {
                remove(at: sweepCursor)  // a later key may shift in: look at this slot again
            } else {
                sweepCursor += 1
            }
        }
    }

    /// Removes every idle key; returns how many.
    mutating func sweep(now: UInt64, idleAfter: UInt64) -> Int {
        let before = count
        var slot = 0
        while slot < slotCount {
            if words[slot * stride] != 0, isIdle(slot, now: now, idleAfter: idleAfter) {
                remove(at: slot)
            } else {
                slot += 1
            }
        }
        return before - count
    }

    private mutating func resize(to slots: Int) {
        let old = words
        let oldSlots = slotCount
        slotCount = slots
        words = Self.allocate(slots: slots, stride: stride)
        for oldSlot in 0..<oldSlots where old[oldSlot * stride] != 0 {
            var slot = home(old[oldSlot * stride])
            while words[slot * stride] != 0 { slot = next(slot) }
            (words + slot * stride).update(from: old + oldSlot * stride, count: stride)
        }
        UnsafeMutableRawPointer(old).deallocate()
    }
}
