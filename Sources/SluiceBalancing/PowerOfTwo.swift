/// The power of two choices: two distinct available backends drawn at random, the one with the
/// lower `(inFlight + 1) / weight` wins (the first drawn on a tie, itself random). With one
/// available backend, that one.
///
/// Nearly as good as least connections at keeping load even, in O(1) per pick, and without its
/// herding: balancers on other event loops and instances, seeing the same counts, do not all
/// rush the same least-loaded backend. The most loaded backend is never chosen.
public struct PowerOfTwo: Balancer {
    public init() {}

    public func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        switch drawCandidates(from: backends, random: &random) {
        case .none:
            return nil
        case .one(let only):
            return only
        case .two(let first, let second):
            return BackendLoad(backends[second]).compared(with: BackendLoad(backends[first])) == .lighter ? second : first
        }
    }
}

/// What the two-choice strategies compare.
enum Candidates: Sendable, Equatable {
    case none
    case one(Int)
    /// Two distinct available backends, uniformly drawn among all such pairs, in random order.
    case two(Int, Int)
}

/// Two distinct available backends drawn uniformly, the only one, or none. Direct draws over
/// the whole list, kept only when both land on available backends, make the usual case O(1);
/// when they miss, one exact pass draws by rank among the available ones. Both are uniform
/// over available pairs, so the mixture is too.
func drawCandidates(
    from backends: [BackendView],
    random: inout some RandomNumberGenerator
) -> Candidates {
    let count = backends.count
    if count >= 2 {
        for _ in 0..<directDrawAttempts {
            let (first, second) = distinctPair(below: count, random: &random)
            if backends[first].isAvailable && backends[second].isAvailable { return .two(first, second) }
        }
    }
    var available = 0
    var lastAvailable = 0
    for index in backends.indices where backends[index].isAvailable {
        available += 1
        lastAvailable = index
    }
    switch available {
    case 0:
        return .none
    case 1:
        return .one(lastAvailable)
    default:
        let (firstRank, secondRank) = distinctPair(below: available, random: &random)
        var first = 0
        var second = 0
        var rank = 0
        for index in backends.indices where backends[index].isAvailable {
            if rank == firstRank { first = index }
            if rank == secondRank { second = index }
            rank += 1
        }
        return .two(first, second)
    }
}

/// Two different numbers in `0..<bound` (bound at least 2), each ordered pair equally likely.
private func distinctPair(below bound: Int, random: inout some RandomNumberGenerator) -> (Int, Int) {
    let first = randomIndex(below: bound, using: &random)
    let offset = randomIndex(below: bound - 1, using: &random)
    return (first, offset >= first ? offset + 1 : offset)
}
