/// Ketama-style consistent hashing. Each backend puts `virtualNodes × weight` points on a ring
/// of 64-bit positions; a key goes to the owner of the first point at or after it, wrapping
/// around. Adding or removing a backend moves only the keys between its points and their
/// predecessors, about 1/n of them, and only to or from that backend.
///
/// Point `i` of a backend sits at XXH64 (seed 0) of the UTF-8 string `"<identity>-<i>"`, like
/// ketama's `"host:port-i"`; changing that changes where every key goes. Placement depends on the
/// identities only, not on their order, so instances configured alike agree.
public struct ConsistentHashRing: Balancer {
    /// Point positions, ascending; `owners[i]` is the backend index of `positions[i]`.
    private let positions: [UInt64]
    private let owners: [Int32]
    private let backendCount: Int
    private let bound: LoadBound?

    /// - Parameters:
    ///   - identities: a stable name per backend (`"10.0.0.1:80"`), in the order `pick` sees them.
    ///   - weights: configured weights, one per identity; a backend gets points in proportion.
    ///   - virtualNodes: points per unit of weight; more points even out the shares, at the cost
    ///     of memory (12 bytes a point) and a longer binary search.
    ///   - balanceFactor: e of consistent hashing with bounded loads (0.25 lets a backend take 25%
    ///     more than its share of the in-flight requests); nil for no bound.
    public init(identities: [String], weights: [Int], virtualNodes: Int = 160, balanceFactor: Double? = nil) {
        precondition(identities.count == weights.count, "one weight per identity")
        precondition(virtualNodes >= 1, "virtualNodes must be at least 1")
        let weights = normalizedWeights(weights)
        var points: [(position: UInt64, identityHash: UInt64, owner: Int)] = []
        points.reserveCapacity(weights.reduce(0, +) * virtualNodes)
        for (owner, identity) in identities.enumerated() {
            let identityHash = XXHash64.hash(identity)
            for node in 0..<(virtualNodes * weights[owner]) {
                points.append((XXHash64.hash("\(identity)-\(node)"), identityHash, owner))
            }
        }
        // Ties between positions are broken by identity, not index, to stay order-independent.
        points.sort { ($0.position, $0.identityHash, $0.owner) < ($1.position, $1.identityHash, $1.owner) }
        positions = points.map(\.position)
        owners = points.map { Int32($0.owner) }
        backendCount = identities.count
        bound = LoadBound(balanceFactor: balanceFactor)
    }

    public mutating func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        guard backends.count == backendCount, !positions.isEmpty else { return nil }
        guard let key = context.hashKey else { return weightedRandomAvailable(backends, random: &random) }
        // Checked first so that a pool with nothing available does not walk the whole ring.
        guard backends.contains(where: \.isAvailable) else { return nil }
        let admission = Admission(bound: bound, backends: backends)
        var index = firstPosition(atOrAfter: key)
        for _ in 0..<positions.count {
            let owner = Int(owners[index])
            if admission.admits(backends[owner]) { return owner }
            index += 1
            if index == positions.count { index = 0 }
        }
        return nil
    }

    /// Binary search for the first point at or after `key`, wrapping to the first point.
    private func firstPosition(atOrAfter key: UInt64) -> Int {
        var low = 0
        var high = positions.count
        while low < high {
            let middle = low + (high - low) / 2
            if positions[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low == positions.count ? 0 : low
    }
}
