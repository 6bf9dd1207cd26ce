// What the hash strategies (IPHash, ConsistentHashRing, Rendezvous, Maglev) share.

/// The pick of a hash strategy for a request without an affinity key: a weighted-random
/// available backend, by effective weight (so slow start still applies). One pass to total the
/// weights and one to find the drawn backend; nothing is allocated.
func weightedRandomAvailable(
    _ backends: [BackendView],
    random: inout some RandomNumberGenerator
) -> Int? {
    var totalWeight = 0
    for backend in backends where backend.isAvailable {
        totalWeight += max(1, backend.weight)
    }
    guard totalWeight > 0 else { return nil }
    var remaining = Int.random(in: 0..<totalWeight, using: &random)
    for index in backends.indices where backends[index].isAvailable {
        remaining -= max(1, backends[index].weight)
        if remaining < 0 { return index }
    }
    return nil
}

/// A configured weight as the hash structures use it: at least 1, like `BackendView.weight`.
func normalizedWeights(_ weights: [Int]) -> [Int] {
    weights.map { max(1, $0) }
}
