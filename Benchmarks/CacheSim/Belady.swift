import SluiceCache
import SluiceBalancing

// Belady's MIN (Belady, 1966; optimal for unit sizes, Mattson et al., 1970): on a miss with
// the cache full, evict the kept key whose next request is farthest in the future, or one
// never requested again. Offline: it needs the whole trace. Every request that misses is
// admitted (demand paging), as every policy here admits every key that fits, so MIN is the
// fewest misses any of them could have with equal sizes. It is not the optimum with varying
// sizes, so only the equal-size table shows it.

/// Misses of MIN on `requests` (ids below `idBound`, each of size 1) with room for
/// `capacity` keys, from a cold start. O(n log capacity): next uses by one backward pass,
/// then a max-heap of (next use, key) with lazy deletion, compacted when it outgrows the
/// keys kept.
func beladyMisses(_ requests: [Int32], idBound: Int, capacity: Int) -> Int {
    guard capacity > 0 else { return requests.count }
    precondition(requests.count < Int(Int32.max), "positions must fit an Int32")
    let never = Int32.max
    // nextUse[i]: the position of the next request of requests[i], or `never`.
    var nextUse = [Int32](repeating: never, count: requests.count)
    var following = [Int32](repeating: never, count: idBound)
    for position in requests.indices.reversed() {
        let key = Int(requests[position])
        nextUse[position] = following[key]
        following[key] = Int32(position)
    }

    // keptUntil[key]: the next use of a kept key, the heap entry that is current; -1 when
    // not kept. Keys never used again share `never`, but a key gets that value at most
    // once, so an entry is current exactly when it matches keptUntil.
    var keptUntil = [Int32](repeating: -1, count: idBound)
    var heap = MaxHeap()
    var kept = 0
    var misses = 0
    for position in requests.indices {
        let key = requests[position]
        let next = nextUse[position]
        if keptUntil[Int(key)] >= 0 {
            keptUntil[Int(key)] = next
        } else {
            misses += 1
            if kept == capacity {
                while true {
                    let (until, victim) = heap.popMax()
                    if keptUntil[Int(victim)] == until {
                        keptUntil[Int(victim)] = -1
                        break
                    }
                }
                kept -= 1
            }
            keptUntil[Int(key)] = next
            kept += 1
        }
        heap.push(until: next, key: key)
        if heap.count > 4 * capacity + 64 {
            heap.retain { until, key in keptUntil[Int(key)] == until }
        }
    }
    return misses
}

/// A binary max-heap of (next use, key), packed in one UInt64 so that comparing the words
/// compares next uses first.
struct MaxHeap {
    private var items: [UInt64] = []

    var count: Int { items.count }

    mutating func push(until: Int32, key: Int32) {
        items.append(UInt64(UInt32(bitPattern: until)) << 32 | UInt64(UInt32(bitPattern: key)))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[parent] < items[child] else { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    /// Removes and returns the entry with the largest next use; the heap must not be empty.
    mutating func popMax() -> (until: Int32, key: Int32) {
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            siftDown(0)
        }
        return (Int32(bitPattern: UInt32(truncatingIfNeeded: top >> 32)), Int32(bitPattern: UInt32(truncatingIfNeeded: top)))
    }

    /// Keeps the entries `isCurrent` accepts and restores the heap order, in O(count).
    mutating func retain(where isCurrent: (Int32, Int32) -> Bool) {
        items.removeAll { item in
            !isCurrent(Int32(bitPattern: UInt32(truncatingIfNeeded: item >> 32)), Int32(bitPattern: UInt32(truncatingIfNeeded: item)))
        }
        for index in stride(from: items.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < items.count else { return }
            var largest = left
            if left + 1 < items.count && items[left + 1] > items[left] { largest = left + 1 }
            guard items[largest] > items[parent] else { return }
            items.swapAt(parent, largest)
            parent = largest
        }
    }
}

/// The fewest misses of any demand-paging schedule on a tiny trace (ids below 16): every
/// choice of victim on every miss with the cache full, memoised on (position, keys kept).
func bruteForceMisses(_ requests: [Int32], capacity: Int) -> Int {
    var memo: [Int: Int] = [:]
    func fewest(_ position: Int, _ kept: UInt16) -> Int {
        guard position < requests.count else { return 0 }
        let state = position << 16 | Int(kept)
        if let known = memo[state] { return known }
        let bit = UInt16(1) << UInt16(requests[position])
        let result: Int
        if kept & bit != 0 {
            result = fewest(position + 1, kept)
        } else if capacity == 0 {
            result = 1 + fewest(position + 1, kept)
        } else if kept.nonzeroBitCount < capacity {
            result = 1 + fewest(position + 1, kept | bit)
        } else {
            var best = Int.max
            for victim in 0..<16 where kept & (1 << victim) != 0 {
                best = min(best, fewest(position + 1, kept & ~(1 << victim) | bit))
            }
            result = 1 + best
        }
        memo[state] = result
        return result
    }
    return fewest(0, 0)
}

/// Checks MIN against the brute force, and that no policy beats it, on `cases` random tiny
/// traces (up to 14 requests over up to 6 keys, room for 0…4 keys); stops the run on a
/// mismatch.
func checkBelady(cases: Int, seed: UInt64) {
    var random = SplitMix64(seed: seed ^ 0x6265_6c61_6479_0000)
    for number in 0..<cases {
        let keys = 1 + Int(random.next() % 6)
        let length = 1 + Int(random.next() % 14)
        let capacity = Int(random.next() % 5)
        let trace = (0..<length).map { _ in Int32(random.next() % UInt64(keys)) }
        let fast = beladyMisses(trace, idBound: keys, capacity: capacity)
        let exact = bruteForceMisses(trace, capacity: capacity)
        precondition(fast == exact, "Belady self-check \(number): MIN \(fast) ≠ brute force \(exact) on \(trace), capacity \(capacity)")
        for kind in EvictionKind.allCases {
            var index = EvictionIndex<Int32>(kind: kind, capacityBytes: capacity)
            var misses = 0
            for key in trace {
                if index.touch(key) { continue }
                misses += 1
                _ = index.insert(key, size: 1)
            }
            precondition(misses >= exact, "Belady self-check \(number): \(kind.rawValue) \(misses) < optimum \(exact) on \(trace)")
        }
    }
}
