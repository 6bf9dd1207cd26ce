import SluiceCache
import SluiceBalancing

// A mutating call inside `#expect` is written in parentheses: the macro cannot take a
// mutating member call apart.

/// An index whose keys are all `size` bytes (1 unless given), filled with `keys` in order.
func index(_ kind: EvictionKind, capacity: Int, holding keys: [String] = [], size: Int = 1) -> EvictionIndex<String> {
    var index = EvictionIndex<String>(kind: kind, capacityBytes: capacity)
    for key in keys {
        let evicted = index.insert(key, size: size)
        precondition(evicted.isEmpty, "the fill must fit")
    }
    return index
}

/// `prefix`0 … `prefix`(count-1).
func keys(_ prefix: String, _ count: Int) -> [String] { (0..<count).map { prefix + String($0) } }

extension SplitMix64 {
    /// Uniform in 0..<bound.
    mutating func below(_ bound: Int) -> Int { Int(next(upperBound: UInt64(bound))) }
}
