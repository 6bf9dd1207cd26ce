// What the hash strategies (IPHash, ConsistentHashRing, Rendezvous, Maglev) share.

/// The pick of a hash strategy for a request without an affinity key: a weighted-random
/// available backend, by effective weight (so slow start still applies).
func weightedRandomAvailable(
    _ backends: [BackendView],
    random: inout some RandomNumberGenerator
) -> Int? {
    WeightedRandom().pick(from: backends, context: PickContext(), random: &random)
}

/// A configured weight as the hash structures use it: at least 1, like `BackendView.weight`.
func normalizedWeights(_ weights: [Int]) -> [Int] {
    weights.map { max(1, $0) }
}
