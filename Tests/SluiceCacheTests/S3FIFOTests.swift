import SluiceCache
import Testing

/// S3-FIFO's rules (Yang et al., SOSP 2023, §4.1), one byte per key. With a capacity of 10 the
/// small queue S is 1 byte and the main queue M the other 9.
@Suite struct S3FIFOTests {
    /// h0…h4 hit twice, then o0…o4 requested once, then o5: the eviction promotes h0…h4 to M
    /// and sends o0 to the ghost queue.
    func warmed() -> EvictionIndex<String> {
        var s3 = index(.s3fifo, capacity: 10, holding: keys("h", 5))
        for key in keys("h", 5) {
            s3.touch(key)
            s3.touch(key)
        }
        for key in keys("o", 5) { #expect((s3.insert(key, size: 1).isEmpty)) }
        #expect((s3.insert("o5", size: 1)) == ["o0"])
        return s3
    }

    @Test func oneHitWondersLeaveThroughTheSmallQueue() {
        var s3 = warmed()
        var lru = index(.lru, capacity: 10, holding: keys("h", 5) + keys("o", 5))
        for key in keys("h", 5) { lru.touch(key) }
        for (number, key) in keys("w", 30).enumerated() {
            // Each wonder pushes out the oldest wonder before it, never an h.
            let expected = number < 5 ? "o\(number + 1)" : "w\(number - 5)"
            #expect((s3.insert(key, size: 1)) == [expected])
            _ = lru.insert(key, size: 1)
        }
        for key in keys("h", 5) {
            #expect(s3.contains(key))
            #expect(!lru.contains(key))  // what the small queue saves M from
        }
        #expect(s3.count == 10)
    }

    @Test func anObjectHitOnlyOnceInTheSmallQueueIsNotPromoted() {
        // §4.1: "moved to M if it is accessed more than once".
        var s3 = index(.s3fifo, capacity: 10, holding: ["once", "twice"] + keys("f", 8))
        s3.touch("once")
        s3.touch("twice")
        s3.touch("twice")
        #expect((s3.insert("n0", size: 1)) == ["once"])
        // twice went to M; the fillers leave before it.
        for (number, key) in keys("n", 10).dropFirst().enumerated() {
            #expect((s3.insert(key, size: 1)) == (number < 8 ? ["f\(number)"] : ["n\(number - 8)"]))
        }
        #expect(s3.contains("twice"))
    }

    @Test func aKeyRequestedAgainFromTheGhostQueueGoesToMain() {
        var s3 = warmed()
        #expect(!s3.contains("o0"))  // a ghost hit is a miss
        #expect((s3.touch("o0")) == false)
        // o0 goes to M; the oldest of S (o1) makes room.
        #expect((s3.insert("o0", size: 1)) == ["o1"])
        let fresh = "fresh"
        #expect((s3.insert(fresh, size: 1)) == ["o2"])
        for key in keys("w", 20) { #expect((s3.insert(key, size: 1).count) == 1) }
        #expect(s3.contains("o0"))  // in M: untouched by the wonders
        #expect(!s3.contains(fresh))  // in S: gone like any wonder
    }

    @Test func theGhostQueueForgetsItsOldestKeys() {
        var s3 = warmed()
        // 20 more wonders leave through S and fill G past its bound (9: M's share in
        // entries), so o0 falls out of it.
        for key in keys("w", 20) { #expect((s3.insert(key, size: 1).count) == 1) }
        #expect((s3.insert("o0", size: 1).count) == 1)
        // Back in S, not M: the next wonders push it out.
        var gone = false
        for key in keys("x", 6) { gone = gone || s3.insert(key, size: 1).contains("o0") }
        #expect(gone)
    }

    @Test func mainReinsertsAHitObjectWithOneLessEachTime() {
        // h0…h4 in M (h0 at the tail), S emptied: every eviction then comes from M.
        var s3 = warmed()
        for key in ["o1", "o2", "o3", "o4", "o5"] { #expect((s3.remove(key)) == true) }
        s3.touch("h0")
        s3.touch("h0")
        s3.touch("h1")
        var order: [String] = []
        for capacity in (0..<5).reversed() { order += s3.setCapacity(capacity) }
        // h0 (2 hits) and h1 (1 hit) go back to M's head at 1 and 0; h2, h3 and h4 leave;
        // then h0 goes round once more at 0, so h1 leaves before it. Resetting the counter
        // instead of decrementing it would give h0 before h1.
        #expect(order == ["h2", "h3", "h4", "h1", "h0"])
    }

    @Test func hitsAreCappedAtThree() {
        var s3 = warmed()
        for key in ["o1", "o2", "o3", "o4", "o5"] { #expect((s3.remove(key)) == true) }
        for _ in 0..<10 { s3.touch("h0") }
        for _ in 0..<4 { s3.touch("h1") }
        var order: [String] = []
        for capacity in (0..<5).reversed() { order += s3.setCapacity(capacity) }
        // Both counters stop at 3, so h0 (nearer M's tail) reaches 0 and leaves first;
        // uncapped, h1's 4 would run out before h0's 10.
        #expect(order == ["h2", "h3", "h4", "h0", "h1"])
    }
}
