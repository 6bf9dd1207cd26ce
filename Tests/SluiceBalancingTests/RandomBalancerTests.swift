import Testing
import SluiceBalancing

// Chi-square critical values at 99.9% (upper tail 0.001), by degrees of freedom (buckets - 1).
// With a fixed seed each check is deterministic; a correct sampler would fail it for 0.1% of
// seeds, a biased one (see chiSquareRejectsWrongDistributions) fails it by far.
private let criticalValue999: [Int: Double] = [1: 10.828, 2: 13.816, 3: 16.266, 4: 18.467, 9: 27.877]

/// How many times each backend is picked in `count` picks over the same views.
private func pickCounts(
    _ balancer: inout some Balancer,
    _ backends: [BackendView],
    count: Int,
    seed: UInt64 = 42
) -> [Int] {
    var random = SeededRandom(seed: seed)
    var counts = Array(repeating: 0, count: backends.count)
    for _ in 0..<count {
        if let index = balancer.pick(from: backends, context: PickContext(), random: &random) {
            counts[index] += 1
        }
    }
    return counts
}

private func weighted(_ weights: [Int]) -> [BackendView] {
    weights.map { BackendView(weight: $0) }
}

@Suite struct RandomBalancerTests {
    @Test func randomPickIsUniform() {
        var balancer = RandomPick()
        let counts = pickCounts(&balancer, Array(repeating: BackendView(), count: 10), count: 100_000)
        let statistic = chiSquare(observed: counts, expectedShares: Array(repeating: 1, count: 10))
        #expect(statistic < criticalValue999[9]!)
    }

    @Test func randomPickIsUniformAmongTheAvailable() {
        // Seven of ten out: most picks take the exact pass after the direct draws miss.
        var balancer = RandomPick()
        let backends = (0..<10).map { BackendView(isAvailable: $0 % 4 == 1) }
        let counts = pickCounts(&balancer, backends, count: 100_000)
        #expect(counts.reduce(0, +) == 100_000)
        for index in backends.indices where !backends[index].isAvailable { #expect(counts[index] == 0) }
        let available = backends.indices.filter { backends[$0].isAvailable }.map { counts[$0] }
        #expect(chiSquare(observed: available, expectedShares: [1, 1, 1]) < criticalValue999[2]!)
    }

    @Test func weightedRandomFollowsWeights() {
        var balancer = WeightedRandom()
        let counts = pickCounts(&balancer, weighted([1, 2, 3, 4]), count: 100_000)
        #expect(chiSquare(observed: counts, expectedShares: [1, 2, 3, 4]) < criticalValue999[3]!)
    }

    @Test func weightedRandomFollowsWeightsAmongTheAvailable() {
        var balancer = WeightedRandom()
        var backends = weighted([1, 2, 3, 4])
        backends[1].isAvailable = false
        backends[3].isAvailable = false
        let counts = pickCounts(&balancer, backends, count: 100_000)
        #expect(counts[1] == 0 && counts[3] == 0)
        #expect(chiSquare(observed: [counts[0], counts[2]], expectedShares: [1, 3]) < criticalValue999[1]!)
    }

    @Test func weightedRoundRobinFollowsWeights() {
        var balancer = WeightedRoundRobin()
        let counts = pickCounts(&balancer, weighted([1, 2, 3, 4]), count: 100_000)
        #expect(chiSquare(observed: counts, expectedShares: [1, 2, 3, 4]) < criticalValue999[3]!)
    }

    @Test func chiSquareRejectsWrongDistributions() {
        // Weighted picks judged as if they were uniform.
        var weightedRandom = WeightedRandom()
        let weightedCounts = pickCounts(&weightedRandom, weighted([1, 2, 3, 4]), count: 100_000)
        #expect(chiSquare(observed: weightedCounts, expectedShares: [1, 1, 1, 1]) > criticalValue999[3]!)

        // The classic off-by-one, `draw <= cumulative`, gives shares 2:2:3:3 for weights 1:2:3:4.
        var random = SeededRandom(seed: 42)
        var offByOne = [0, 0, 0, 0]
        for _ in 0..<100_000 {
            let draw = Int.random(in: 0..<10, using: &random)
            let cumulative = [1, 3, 6, 10]
            offByOne[cumulative.firstIndex { draw <= $0 }!] += 1
        }
        #expect(chiSquare(observed: offByOne, expectedShares: [1, 2, 3, 4]) > criticalValue999[3]!)

        // Uniform picks judged against one backend expected 10% more often than the others.
        var randomPick = RandomPick()
        let uniformCounts = pickCounts(&randomPick, Array(repeating: BackendView(), count: 10), count: 100_000)
        let skewed = [1.1] + Array(repeating: 1.0, count: 9)
        #expect(chiSquare(observed: uniformCounts, expectedShares: skewed) > criticalValue999[9]!)
    }
}

/// The algorithms of this file and the load-aware ones, for the checks every balancer must pass.
enum AnyPickAlgorithm: String, CaseIterable, Sendable {
    case randomPick, weightedRandom, leastConnections, powerOfTwo, peakEWMA

    /// One pick per view list, in order, by a fresh balancer of this kind.
    func pickEach(_ viewLists: [[BackendView]], seed: UInt64 = 42) -> [Int?] {
        switch self {
        case .randomPick: return pickEach(RandomPick(), viewLists, seed: seed)
        case .weightedRandom: return pickEach(WeightedRandom(), viewLists, seed: seed)
        case .leastConnections: return pickEach(LeastConnections(), viewLists, seed: seed)
        case .powerOfTwo: return pickEach(PowerOfTwo(), viewLists, seed: seed)
        case .peakEWMA: return pickEach(PeakEWMA(), viewLists, seed: seed)
        }
    }

    private func pickEach(_ balancer: some Balancer, _ viewLists: [[BackendView]], seed: UInt64) -> [Int?] {
        var balancer = balancer
        var random = SeededRandom(seed: seed)
        return viewLists.enumerated().map { step, backends in
            let context = PickContext(nowNanoseconds: UInt64(step) * 1_000_000)
            let chosen = balancer.pick(from: backends, context: context, random: &random)
            if let chosen { balancer.observe(backend: chosen, latencyNanoseconds: 2_000_000, nowNanoseconds: context.nowNanoseconds) }
            return chosen
        }
    }
}

@Suite struct EveryPickAlgorithmTests {
    @Test(arguments: AnyPickAlgorithm.allCases)
    func neverPicksAnUnavailableBackend(_ algorithm: AnyPickAlgorithm) {
        // Random availability, load and weight over 12 backends, down to none or one available.
        var random = SeededRandom(seed: 7)
        let viewLists: [[BackendView]] = (0..<5_000).map { step in
            let availableOneIn = [1, 2, 4, 12, 100][step % 5]
            return (0..<12).map { _ in
                BackendView(
                    weight: Int.random(in: 1...4, using: &random),
                    inFlight: Int.random(in: 0...5, using: &random),
                    isAvailable: Int.random(in: 0..<availableOneIn, using: &random) == 0
                )
            }
        }
        let chosen = algorithm.pickEach(viewLists)
        for (backends, pick) in zip(viewLists, chosen) {
            if let pick {
                #expect(backends[pick].isAvailable)
            } else {
                #expect(!backends.contains { $0.isAvailable })
            }
        }
    }

    @Test(arguments: AnyPickAlgorithm.allCases)
    func returnsNilWhenNothingIsAvailable(_ algorithm: AnyPickAlgorithm) {
        #expect(algorithm.pickEach([[]]) == [nil])
        let allOut = Array(repeating: BackendView(isAvailable: false), count: 5)
        #expect(algorithm.pickEach(Array(repeating: allOut, count: 3)) == [nil, nil, nil])
    }

    @Test(arguments: AnyPickAlgorithm.allCases)
    func picksTheOnlyAvailableBackend(_ algorithm: AnyPickAlgorithm) {
        var backends = Array(repeating: BackendView(isAvailable: false), count: 7)
        backends[4] = BackendView(weight: 2, inFlight: 9)
        #expect(algorithm.pickEach(Array(repeating: backends, count: 20)) == Array(repeating: 4, count: 20))
        #expect(algorithm.pickEach([[BackendView()]]) == [0])
    }
}
