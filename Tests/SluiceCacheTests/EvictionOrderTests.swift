import SluiceCache
import Testing

/// The victims of LRU, LFU and FIFO on small sequences, one byte per key.
@Suite struct EvictionOrderTests {
    @Test func lruEvictsTheLeastRecentlyUsed() {
        var lru = index(.lru, capacity: 3, holding: ["a", "b", "c"])
        lru.touch("a")
        #expect((lru.insert("d", size: 1)) == ["b"])
        #expect((lru.insert("e", size: 1)) == ["c"])
        lru.touch("d")
        #expect((lru.insert("f", size: 1)) == ["a"])
        #expect((lru.insert("g", size: 1)) == ["e"])
        #expect(lru.count == 3)
    }

    @Test func lruCountsAReplacementAsAUse() {
        var lru = index(.lru, capacity: 3, holding: ["a", "b", "c"])
        #expect((lru.insert("a", size: 1).isEmpty))
        #expect((lru.insert("d", size: 1)) == ["b"])
    }

    @Test func lfuEvictsTheLeastFrequentlyUsed() {
        var lfu = index(.lfu, capacity: 3, holding: ["a", "b", "c"])
        lfu.touch("a")
        lfu.touch("a")
        lfu.touch("b")
        // a: 3 uses, b: 2, c: 1.
        #expect((lfu.insert("d", size: 1)) == ["c"])
        lfu.touch("d")
        // b and d have 2 uses; d's last is the more recent.
        #expect((lfu.insert("e", size: 1)) == ["b"])
        #expect((lfu.insert("f", size: 1)) == ["e"])
        #expect(lfu.contains("a") && lfu.contains("d") && lfu.contains("f"))
    }

    @Test func lfuBreaksTiesByRecency() {
        var lfu = index(.lfu, capacity: 3, holding: ["x", "y", "z"])
        lfu.touch("y")
        lfu.touch("x")
        lfu.touch("z")
        // All at 2 uses, last used y, x, z.
        #expect((lfu.insert("w", size: 1)) == ["y"])
        // w alone at 1 use: the newest goes first when it is the least used.
        #expect((lfu.insert("v", size: 1)) == ["w"])
        lfu.touch("v")
        // x, z and v at 2 uses, last used x, z, v.
        #expect((lfu.insert("u", size: 1)) == ["x"])
    }

    @Test func lfuKeepsAHotKeyWhileItsCountIsRecent() {
        var lfu = index(.lfu, capacity: 4, holding: ["old"])
        for _ in 0..<300 { lfu.touch("old") }
        for key in ["b", "c", "d"] { #expect((lfu.insert(key, size: 1).isEmpty)) }
        for _ in 0..<50 { for key in ["b", "c", "d"] { lfu.touch(key) } }
        // Fewer accesses than a halving period: old has 301 uses, b, c and d 51 each.
        #expect((lfu.insert("e", size: 1)) == ["b"])
    }

    @Test func lfuLetsAFormerlyHotKeyAgeOut() {
        var lfu = index(.lfu, capacity: 4, holding: ["old"])
        for _ in 0..<3_000 { lfu.touch("old") }
        for key in ["b", "c", "d"] { #expect((lfu.insert(key, size: 1).isEmpty)) }
        for _ in 0..<1_000 { for key in ["b", "c", "d"] { lfu.touch(key) } }
        // Without aging old's 3001 uses would outrank b, c and d's 1001 for ever; halving
        // every 1024 accesses has brought old below them.
        #expect((lfu.insert("e", size: 1)) == ["old"])
    }

    @Test func fifoIgnoresHits() {
        var fifo = index(.fifo, capacity: 3, holding: ["a", "b", "c"])
        for _ in 0..<10 { fifo.touch("a") }
        #expect((fifo.insert("d", size: 1)) == ["a"])
        #expect((fifo.insert("b", size: 1).isEmpty))  // a replacement keeps b's place
        #expect((fifo.insert("e", size: 1)) == ["b"])
        #expect((fifo.insert("f", size: 1)) == ["c"])
    }
}
