#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Weighted rendezvous (highest-random-weight) hashing. Every backend scores the key as
/// `-weight / ln(u)`, with u in (0, 1) drawn from XXH64 of the key seeded by the backend's
/// identity hash; the highest available score wins. The chance of winning is exactly
/// weight / Σweight, and a backend leaving or joining moves only the keys it wins, with no ring
/// to build: the cost is one hash and one log per backend per pick.
///
/// Scores depend on identities, not on their order, so instances configured alike agree.
public struct Rendezvous: Balancer {
    /// XXH64 (seed 0) of each identity's UTF-8, the seed of its per-key hash.
    private let identityHashes: [UInt64]
    private let weights: [Double]
    private let bound: LoadBound?

    /// - Parameters:
    ///   - identities: a stable name per backend (`"10.0.0.1:80"`), in the order `pick` sees them.
    ///   - weights: configured weights, one per identity.
    ///   - balanceFactor: e of consistent hashing with bounded loads; nil for no bound.
    public init(identities: [String], weights: [Int], balanceFactor: Double? = nil) {
        precondition(identities.count == weights.count, "one weight per identity")
        identityHashes = identities.map { XXHash64.hash($0) }
        self.weights = normalizedWeights(weights).map(Double.init)
        bound = LoadBound(balanceFactor: balanceFactor)
    }

    public mutating func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        guard backends.count == identityHashes.count else { return nil }
        guard let key = context.hashKey else { return weightedRandomAvailable(backends, random: &random) }
        // With a bound, the best backend under it is the "next-highest" the bound asks for.
        let admission = Admission(bound: bound, backends: backends)
        var best: Int?
        var bestScore = -Double.infinity
        for index in backends.indices where admission.admits(backends[index]) {
            let score = self.score(key, index)
            if score > bestScore {
                best = index
                bestScore = score
            }
        }
        return best
    }

    private func score(_ key: UInt64, _ index: Int) -> Double {
        let hash = XXHash64.hash(key, seed: identityHashes[index])
        // The top 53 bits, offset by half a step, give u strictly inside (0, 1): ln(u) < 0.
        let unit = (Double(hash >> 11) + 0.5) * 0x1p-53
        return -weights[index] / log(unit)
    }
}
