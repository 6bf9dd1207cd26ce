/// Each available backend in turn, ignoring weights. Unavailable backends are skipped
/// without disturbing the order of the others.
public struct RoundRobin: Balancer {
    private var next = 0

    public init() {}

    public mutating func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        let count = backends.count
        guard count > 0 else { return nil }
        for step in 0..<count {
            let index = (next + step) % count
            if backends[index].isAvailable {
                next = (index + 1) % count
                return index
            }
        }
        return nil
    }
}

/// nginx's smooth weighted round robin: every pick adds each backend's weight to its running
/// score, the highest score wins and pays back the total. Weights 5,1,1 give a a b a c a a,
/// never a burst of five to one backend.
public struct WeightedRoundRobin: Balancer {
    private var scores: [Int] = []

    public init() {}

    public mutating func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        if scores.count != backends.count { scores = Array(repeating: 0, count: backends.count) }
        var total = 0
        var best: Int?
        for index in backends.indices where backends[index].isAvailable {
            let weight = max(1, backends[index].weight)
            scores[index] += weight
            total += weight
            if best == nil || scores[index] > scores[best!] { best = index }
        }
        guard let chosen = best else { return nil }
        scores[chosen] -= total
        return chosen
    }
}
