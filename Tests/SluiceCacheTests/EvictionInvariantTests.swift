import SluiceBalancing
import SluiceCache
import Testing

/// 100,000 random operations per policy against a model of what is kept.
@Suite struct EvictionInvariantTests {
    @Test(arguments: EvictionKind.allCases)
    func randomOperationsKeepTheBytesAndKeysConsistent(kind: EvictionKind) {
        var random = SplitMix64(seed: 0x5eed_0000 + UInt64(EvictionKind.allCases.firstIndex(of: kind)!))
        var capacity = 10_000
        var index = EvictionIndex<Int>(kind: kind, capacityBytes: capacity)
        /// What the index should keep, and the sum of its sizes.
        var kept: [Int: Int] = [:]
        var keptBytes = 0

        func forget(_ evicted: [Int]) {
            #expect(Set(evicted).count == evicted.count, "a key evicted twice")
            for key in evicted {
                guard let size = kept.removeValue(forKey: key) else {
                    Issue.record("\(key) evicted but not kept")
                    continue
                }
                keptBytes -= size
                #expect(!index.contains(key), "\(key) evicted but still contained")
            }
        }

        for step in 0..<100_000 {
            // Keys skewed towards small numbers so that hits, replacements and ghost hits happen.
            let key = random.below(1 + random.below(2_000))
            switch random.below(100) {
            case 0..<45:
                #expect((index.touch(key)) == (kept[key] != nil))
            case 45..<90:
                // Mostly small, sometimes over the capacity, sometimes empty.
                let size = random.below(20) == 0 ? random.below(2 * capacity + 1) : random.below(400)
                keptBytes += size - (kept[key] ?? 0)
                kept[key] = size
                forget(index.insert(key, size: size))
                #expect(index.usedBytes <= index.capacityBytes)
            case 90..<99:
                let wasKept = kept.removeValue(forKey: key)
                keptBytes -= wasKept ?? 0
                #expect((index.remove(key)) == (wasKept != nil))
            default:
                capacity = random.below(20_000)
                forget(index.setCapacity(capacity))
                #expect(index.usedBytes <= capacity)
            }
            #expect(index.usedBytes == keptBytes)
            #expect(index.count == kept.count)
            if step % 5_000 == 0 {
                #expect(kept.keys.allSatisfy { index.contains($0) })
            }
        }
        #expect(kept.keys.allSatisfy { index.contains($0) })
    }
}
