import SluiceBalancing
@testable import SluiceLimits
import Testing

@Suite struct ShardTableTests {
    /// A key whose home in a 16-slot table is `home`.
    func key(home: Int, _ low: UInt64) -> UInt64 { UInt64(home) << 60 | (low & (1 << 60 - 1)) | 1 }

    func state(_ value: UInt64) -> LimitState {
        var state = LimitState()
        state.words[0] = value
        return state
    }

    /// Every model key is found with its state, and the table holds nothing else.
    func expectMatches(_ table: borrowing ShardTable, _ model: [UInt64: UInt64]) {
        #expect(table.count == model.count)
        for (key, value) in model {
            let (slot, found) = table.find(key)
            #expect(found)
            if found { #expect(table.state(at: slot).words[0] == value) }
        }
        let occupied = (0..<table.slotCount).filter { table.key(at: $0) != 0 }
        #expect(occupied.count == model.count)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func backwardShiftKeepsEveryKeyReachable(seed: UInt64) {
        // 16 slots, 12 keys at most, homes crowded at the end so that runs wrap round.
        var table = ShardTable(stateWords: 1, maxKeys: 12, seed: 0)
        #expect(table.slotCount == 16)
        var model: [UInt64: UInt64] = [:]
        var random = SeededRandom(seed: seed)
        let homes = [0, 1, 13, 14, 15, 15, 7]
        for step in 0..<4_000 {
            let candidate = key(home: homes[Int(random.next() % UInt64(homes.count))], random.next() % 24)
            let (slot, found) = table.find(candidate)
            if found {
                table.remove(at: slot)
                model[candidate] = nil
            } else if model.count < 12 {
                table.insert(candidate, state: state(UInt64(step)), now: 1, idleAfter: .max)
                model[candidate] = UInt64(step)
            }
            if step % 7 == 0 { expectMatches(table, model) }
        }
        expectMatches(table, model)
    }

    @Test func growsByDoublingUpToWhatTheCapNeeds() {
        var table = ShardTable(stateWords: 2, maxKeys: 1_000, seed: 0)
        var model: [UInt64: UInt64] = [:]
        var random = SeededRandom(seed: 9)
        var sizes: [Int] = [table.slotCount]
        for step in 0..<1_000 {
            let key = random.next() | 1
            table.insert(key, state: state(UInt64(step)), now: 1, idleAfter: .max)
            model[key] = UInt64(step)
            if sizes.last != table.slotCount { sizes.append(table.slotCount) }
        }
        #expect(sizes == [16, 32, 64, 128, 256, 512, 1_024, 1_334])
        expectMatches(table, model)
        #expect(table.bytes >= 1_334 * 4 * 8)
    }

    @Test func evictionTakesTheLeastRecentlySeenOfTheSamples() {
        var table = ShardTable(stateWords: 1, maxKeys: 12, seed: 0)
        // Keys at homes 0...11, seen at 100 + 2 × home, except home 9 seen first of all.
        for home in 0..<12 {
            let seen: UInt64 = home == 9 ? 50 : 100 + 2 * UInt64(home)
            table.insert(key(home: home, 0), state: state(1), now: seen, idleAfter: .max)
        }
        // Samples land on 3, 7, 5, 10 and twice on the empty slots 12 and 14, which move on
        // to the next occupied slot (0, round the end): home 0 (seen at 100) is the oldest.
        var random = ScriptedRandom(values: [3, 7, 12, 5, 10, 14, 3, 7].map { UInt64($0) << 60 })
        #expect(table.evictOne(using: &random) == key(home: 0, 0))
        #expect(table.count == 11)
        #expect(!table.find(key(home: 0, 0)).found)
        // Home 9, seen first of all, survived that: sampled LRU compares only what it draws.
        random = ScriptedRandom(values: [9].map { UInt64($0) << 60 })
        #expect(table.evictOne(using: &random) == key(home: 9, 0))
    }

    @Test func aFullShardEvictsOnInsertAndStaysAtItsCap() {
        var table = ShardTable(stateWords: 1, maxKeys: 12, seed: 5)
        for index in 0..<100 {
            table.insert(UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15, state: state(1), now: UInt64(index), idleAfter: .max)
            #expect(table.count == min(index + 1, 12))
        }
        #expect(table.slotCount == 16)
    }

    @Test func sweepingRemovesOnlyIdleKeys() {
        var table = ShardTable(stateWords: 1, maxKeys: 12, seed: 0)
        var model: [UInt64: UInt64] = [:]
        let keys = (0..<12).map { key(home: [14, 15, 0, 1][$0 % 4], UInt64($0) * 2) }
        for (index, key) in keys.enumerated() {
            table.insert(key, state: state(UInt64(index)), now: UInt64(index), idleAfter: .max)
        }
        // All but every third key are seen again at 100; with idle after 10 ns only those
        // four are idle then.
        for (index, key) in keys.enumerated() where index % 3 != 0 {
            table.store(state(UInt64(index)), at: table.find(key).slot, now: 100)
            model[key] = UInt64(index)
        }
        #expect(table.sweep(now: 100, idleAfter: 10) == 4)
        expectMatches(table, model)
    }
}
