import SluiceCache
import Testing

/// Bytes, counts and capacity, the same for every policy.
@Suite struct EvictionAccountingTests {
    @Test(arguments: EvictionKind.allCases)
    func replacingAndRemovingKeepTheBytes(kind: EvictionKind) {
        var index = EvictionIndex<String>(kind: kind, capacityBytes: 100)
        #expect((index.insert("a", size: 10).isEmpty))
        #expect((index.insert("b", size: 20).isEmpty))
        #expect(index.usedBytes == 30 && index.count == 2)
        #expect((index.insert("a", size: 5).isEmpty))
        #expect(index.usedBytes == 25 && index.count == 2)
        #expect((index.remove("b")) == true)
        #expect((index.remove("b")) == false)
        #expect(index.usedBytes == 5 && index.count == 1)
        #expect(index.contains("a") && !index.contains("b"))
    }

    @Test(arguments: EvictionKind.allCases)
    func aKeyLargerThanTheCapacityComesBackAtOnce(kind: EvictionKind) {
        var index = EvictionIndex<String>(kind: kind, capacityBytes: 100)
        #expect((index.insert("a", size: 40).isEmpty))
        #expect((index.insert("b", size: 40).isEmpty))
        #expect((index.insert("huge", size: 101)) == ["huge"])
        #expect(!index.contains("huge"))
        #expect(index.usedBytes == 80 && index.count == 2)  // nothing else was pushed out
        // Growing a kept key past the capacity forgets it.
        #expect((index.insert("a", size: 200)) == ["a"])
        #expect(!index.contains("a"))
        #expect(index.usedBytes == 40 && index.count == 1)
        // Exactly the capacity fits.
        #expect((index.insert("full", size: 100)) == ["b"])
        #expect(index.usedBytes == 100 && index.contains("full"))
    }

    @Test(arguments: EvictionKind.allCases)
    func aZeroCapacityKeepsNothing(kind: EvictionKind) {
        var index = EvictionIndex<String>(kind: kind, capacityBytes: 0)
        #expect((index.insert("a", size: 1)) == ["a"])
        #expect((index.insert("empty", size: 0).isEmpty))
        #expect(index.count == 1 && index.usedBytes == 0)
    }

    @Test(arguments: EvictionKind.allCases)
    func growingAKeptKeyEvictsOthers(kind: EvictionKind) {
        var index = EvictionIndex<String>(kind: kind, capacityBytes: 100)
        for key in ["a", "b", "c", "d"] { #expect((index.insert(key, size: 25).isEmpty)) }
        let evicted = index.insert("d", size: 50)
        #expect(!evicted.isEmpty)
        #expect(index.usedBytes <= 100)
        #expect(index.usedBytes == 25 * (4 - evicted.count) + (evicted.contains("d") ? -25 : 25))
    }

    @Test func shrinkingTheCapacityEvictsAtOnce() {
        var lru = index(.lru, capacity: 100, holding: ["a", "b", "c", "d"], size: 25)
        lru.touch("a")
        #expect((lru.setCapacity(50)) == ["b", "c"])
        #expect(lru.capacityBytes == 50 && lru.usedBytes == 50 && lru.count == 2)
        #expect((lru.setCapacity(200).isEmpty))
        #expect((lru.insert("e", size: 150).isEmpty))
        #expect(lru.usedBytes == 200)
    }

    @Test(arguments: EvictionKind.allCases)
    func shrinkingFitsEveryPolicy(kind: EvictionKind) {
        var index = EvictionIndex<Int>(kind: kind, capacityBytes: 1_000)
        for key in 0..<100 { _ = index.insert(key, size: 10) }
        for key in stride(from: 0, to: 100, by: 3) { index.touch(key) }
        let evicted = index.setCapacity(333)
        #expect(index.usedBytes <= 333)
        #expect(index.count == 100 - evicted.count)
        #expect(Set(evicted).count == evicted.count)
        #expect(evicted.allSatisfy { !index.contains($0) })
    }

    @Test func kindsHaveTheirConfigurationNames() {
        #expect(EvictionKind.allCases.map(\.rawValue) == ["lru", "lfu", "fifo", "s3fifo"])
        #expect(EvictionKind(rawValue: "s3fifo") == .s3fifo)
    }
}
