import SluiceBalancing

/// Distribution tests need a generator that is deterministic and still statistically sound
/// (FixedRandom's Weyl sequence is too regular for them).
typealias SeededRandom = SplitMix64

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
