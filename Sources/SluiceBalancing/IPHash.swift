/// nginx's `ip_hash`: the key modulo the total configured weight picks a backend, each owning a
/// run of the weight range in order. If that backend is unavailable the hash is mixed again, up
/// to 20 times, so the keys of a down backend scatter over the others instead of all landing on
/// its neighbour; after that the first available backend after the first choice serves.
///
/// The mapping uses the configured weights, not the effective ones, so that slow start elsewhere
/// does not move clients. It is not consistent: changing the backend list moves most keys.
public struct IPHash: Balancer {
    private let weights: [Int]
    private let totalWeight: Int
    private static let rehashes = 20

    /// `weights` are the configured weights, one per backend, in the order `pick` sees them.
    public init(weights: [Int]) {
        self.weights = normalizedWeights(weights)
        totalWeight = self.weights.reduce(0, +)
    }

    public mutating func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        guard backends.count == weights.count, !backends.isEmpty else { return nil }
        guard var hash = context.hashKey else { return weightedRandomAvailable(backends, random: &random) }
        let firstChoice = owner(of: hash)
        if backends[firstChoice].isAvailable { return firstChoice }
        for _ in 0..<Self.rehashes {
            hash = XXHash64.hash(hash)
            let index = owner(of: hash)
            if backends[index].isAvailable { return index }
        }
        for step in 1..<backends.count {
            let index = (firstChoice + step) % backends.count
            if backends[index].isAvailable { return index }
        }
        return nil
    }

    /// The backend whose run of the weight range holds `hash % totalWeight`.
    private func owner(of hash: UInt64) -> Int {
        var remaining = Int(hash % UInt64(totalWeight))
        for index in weights.indices {
            if remaining < weights[index] { return index }
            remaining -= weights[index]
        }
        return weights.count - 1
    }
}
