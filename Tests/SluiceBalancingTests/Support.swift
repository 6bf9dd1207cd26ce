import SluiceBalancing

/// SplitMix64: a seeded generator with good statistical quality, so that distribution tests
/// are deterministic and still meaningful (FixedRandom's Weyl sequence is too regular for them).
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64 = 42) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Pearson's chi-square statistic of observed counts against expected proportions.
func chiSquare(observed: [Int], expectedShares: [Double]) -> Double {
    let total = Double(observed.reduce(0, +))
    let shareSum = expectedShares.reduce(0, +)
    var statistic = 0.0
    for (count, share) in zip(observed, expectedShares) where share > 0 {
        let expected = total * share / shareSum
        statistic += (Double(count) - expected) * (Double(count) - expected) / expected
    }
    return statistic
}
