import Dispatch
import SluiceLimits
import Synchronization
import Testing

@Suite struct LocalLimitStoreTests {
    @Test func keysAreIndependent() {
        let store = LocalLimitStore(policy: policy(.tokenBucket, [tier(2, per: 10)]))
        #expect(store.decide(keyHash: 1, now: 0).allowed)
        #expect(store.decide(keyHash: 1, now: 0).allowed)
        #expect(!store.decide(keyHash: 1, now: 0).allowed)
        #expect(store.decide(keyHash: 2, now: 0).remaining(0) == 1)
        #expect(store.decide(keyHash: 0, now: 0).allowed)   // 0 is a hash like any other
        #expect(store.decide(keyHash: 0, now: 0).remaining(0) == 0)
        #expect(store.count == 3)
    }

    @Test func aKeyIsNotStoredUntilItSpendsSomething() {
        let store = LocalLimitStore(policy: policy(.gcra, [tier(2, per: 10)]))
        #expect(store.decide(keyHash: 1, cost: 0, now: 0).remaining(0) == 2)
        #expect(!store.decide(keyHash: 2, cost: 3, now: 0).allowed)
        store.giveBack(keyHash: 3, count: 1, now: 0)
        #expect(store.take(keyHash: 4, upTo: 0, now: 0) == 0)
        #expect(store.count == 0)
    }

    @Test func leasesAndGivingBack() {
        let store = LocalLimitStore(policy: policy(.slidingWindow, [tier(5, per: 10)]))
        #expect(store.take(keyHash: 9, upTo: 7, now: 0) == 5)
        #expect(store.take(keyHash: 9, upTo: 7, now: 0) == 0)
        store.giveBack(keyHash: 9, count: 3, now: second)
        #expect(store.decide(keyHash: 9, now: second).remaining(0) == 2)
        store.giveBack(keyHash: 9, count: 50, now: second)
        #expect(store.decide(keyHash: 9, cost: 0, now: second).remaining(0) == 5)
    }

    @Test func aKeyIsFreshOnceIdleForItsLongestTier() {
        let store = LocalLimitStore(policy: policy(.tokenBucket, [tier(1, per: 1), tier(5, per: 10)]))
        for key in UInt64(0)..<100 { #expect(store.take(keyHash: key, upTo: 5, now: 0) == 1) }
        #expect(store.sweep(now: 10 * second - 1) == 0)
        #expect(store.count == 100)
        #expect(store.sweep(now: 10 * second) == 100)
        #expect(store.count == 0)
        // Found idle before any sweep: starts over with the whole quota.
        #expect(store.take(keyHash: 7, upTo: 5, now: 20 * second) == 1)
        #expect(store.decide(keyHash: 7, cost: 0, now: 30 * second).remaining(1) == 5)
        #expect(store.count == 1)
    }

    @Test func insertsSweepIdleKeysAway() {
        let store = LocalLimitStore(policy: policy(.gcra, [tier(1, per: 1)]), maxKeys: 2_047)
        #expect(store.shardCount == 1)
        for key in UInt64(0)..<1_000 { _ = store.decide(keyHash: key, now: 0) }
        for key in UInt64(1_000)..<3_000 { _ = store.decide(keyHash: key, now: 10 * second) }
        // Under the cap, so nothing was evicted: the 2,000 inserts looked at 4,000 slots and
        // swept every idle key away on the way.
        #expect(store.count == 2_000)
        #expect(store.sweep(now: 10 * second) == 0)
    }

    @Test func theCapHoldsAndARecentlySeenKeyIsKept() {
        let store = LocalLimitStore(policy: policy(.tokenBucket, [tier(1_000, per: 3_600)]), maxKeys: 1_024, seed: 3)
        #expect(store.shardCount == 1)
        #expect(store.take(keyHash: 42, upTo: 5, now: 0) == 5)
        for key in UInt64(1_000)..<11_000 {
            _ = store.decide(keyHash: key, now: key)
            _ = store.decide(keyHash: 42, cost: 0, now: key)   // seen, not spent
            #expect(store.count <= 1_024)
        }
        #expect(store.count == 1_024)
        // Never evicted: the hot key still has its 5 spent.
        #expect(store.decide(keyHash: 42, cost: 0, now: 11_000).remaining(0) == 995)
    }

    @Test func shardsAndTheEstimateOfBytesPerKey() {
        let store = LocalLimitStore(policy: policy(.gcra, [tier(10, per: 1)]))
        #expect(store.shardCount == 64)
        #expect(store.maxKeys == 1_000_000)
        for key in UInt64(0)..<10_000 { _ = store.decide(keyHash: key, now: 0) }
        #expect(store.count == 10_000)
        // 3 words a slot, 3/8 to 3/4 of the slots used: 32 to 64 bytes a key, plus slack.
        #expect(store.bytesPerKey >= 32 && store.bytesPerKey <= 72)
    }

    @Test(arguments: RateAlgorithm.allCases)
    func concurrentUseAdmitsExactlyTheLimit(_ algorithm: RateAlgorithm) {
        let store = LocalLimitStore(policy: policy(algorithm, [tier(1_000, per: 3_600), tier(5_000, per: 86_400)]))
        let admitted = Atomic<Int>(0)
        let leased = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for step in 0..<1_000 {
                let now = UInt64(step) * 1_000
                if store.decide(keyHash: 0xFEED, now: now).allowed { admitted.add(1, ordering: .relaxed) }
                // 16 keys shared by every thread: 500 leases of up to 3 each ask for 1,500.
                leased.add(store.take(keyHash: UInt64(step % 16), upTo: 3, now: now), ordering: .relaxed)
            }
        }
        #expect(admitted.load(ordering: .relaxed) == 1_000)
        #expect(leased.load(ordering: .relaxed) == 16_000)
        #expect(store.count == 17)
    }
}
