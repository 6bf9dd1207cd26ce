import Testing
import SluiceBalancing

/// A deterministic generator, so that tests never depend on chance.
struct FixedRandom: RandomNumberGenerator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return state
    }
}

func picks(_ balancer: inout some Balancer, _ backends: [BackendView], count: Int) -> [Int?] {
    var random = FixedRandom()
    return (0..<count).map { _ in balancer.pick(from: backends, context: PickContext(), random: &random) }
}

@Suite struct RoundRobinTests {
    @Test func cyclesThroughEveryBackendInOrder() {
        var rr = RoundRobin()
        let result = picks(&rr, Array(repeating: BackendView(), count: 3), count: 7)
        #expect(result == [0, 1, 2, 0, 1, 2, 0])
    }

    @Test func skipsUnavailableBackends() {
        var rr = RoundRobin()
        let backends = [BackendView(), BackendView(isAvailable: false), BackendView()]
        #expect(picks(&rr, backends, count: 4) == [0, 2, 0, 2])
    }

    @Test func returnsNilWhenNothingIsAvailable() {
        var rr = RoundRobin()
        #expect(picks(&rr, [], count: 1) == [nil])
        #expect(picks(&rr, [BackendView(isAvailable: false)], count: 2) == [nil, nil])
    }

    @Test func smoothWeightedSpreadsTheHeavyBackend() {
        var wrr = WeightedRoundRobin()
        let backends = [BackendView(weight: 5), BackendView(weight: 1), BackendView(weight: 1)]
        // nginx's documented sequence for weights 5, 1, 1.
        #expect(picks(&wrr, backends, count: 7) == [0, 0, 1, 0, 2, 0, 0])
    }

    @Test func weightedServesInProportionAndSkipsUnavailable() {
        var wrr = WeightedRoundRobin()
        let backends = [BackendView(weight: 3), BackendView(weight: 1, isAvailable: false), BackendView(weight: 1)]
        let result = picks(&wrr, backends, count: 400).compactMap { $0 }
        #expect(result.filter { $0 == 0 }.count == 300)
        #expect(result.filter { $0 == 2 }.count == 100)
        #expect(!result.contains(1))
    }
}
