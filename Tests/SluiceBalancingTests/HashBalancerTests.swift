import Testing
import SluiceBalancing

/// The three consistent strategies, so that one test states a property of each.
enum ConsistentStrategy: String, CaseIterable, Sendable {
    case ring, rendezvous, maglev

    func make(_ identities: [String], weights: [Int]? = nil, balanceFactor: Double? = nil) -> any Balancer {
        let weights = weights ?? Array(repeating: 1, count: identities.count)
        switch self {
        case .ring: return ConsistentHashRing(identities: identities, weights: weights, balanceFactor: balanceFactor)
        case .rendezvous: return Rendezvous(identities: identities, weights: weights, balanceFactor: balanceFactor)
        case .maglev: return Maglev(identities: identities, weights: weights, balanceFactor: balanceFactor)
        }
    }
}

private func identities(_ count: Int) -> [String] {
    (1...count).map { "10.0.0.\($0):80" }
}

private func randomKeys(_ count: Int, seed: UInt64) -> [UInt64] {
    var random = SeededRandom(seed: seed)
    return (0..<count).map { _ in random.next() }
}

/// The identity each key goes to, nil where the pick was nil.
private func assign(
    _ keys: [UInt64],
    _ balancer: inout some Balancer,
    _ names: [String],
    _ backends: [BackendView]? = nil
) -> [String?] {
    let backends = backends ?? Array(repeating: BackendView(), count: names.count)
    var random = SeededRandom()
    return keys.map { key in
        balancer.pick(from: backends, context: PickContext(hashKey: key), random: &random).map { names[$0] }
    }
}

private func movedFraction(_ before: [String?], _ after: [String?]) -> Double {
    Double(zip(before, after).filter { $0 != $1 }.count) / Double(before.count)
}

private func counts(_ assigned: [String?], _ names: [String]) -> [Int] {
    names.map { name in assigned.filter { $0 == name }.count }
}

/// Chi-square critical value for 3 degrees of freedom at p = 0.001: a fit distribution exceeds
/// it one time in a thousand, and the seeds are fixed, so a failure means a real skew.
private let chiSquare3DoF999 = 16.27

@Suite struct ConsistentHashingTests {
    static let goldenKeys = (0..<8).map { XXHash64.hash("client-\($0)") }

    /// Hard-coded picks for fixed identities and keys: any change to the hashing, the ring point
    /// names, the score or the table population breaks this on purpose, since it would move
    /// every client of every running instance.
    @Test(arguments: [
        (ConsistentStrategy.ring, [0, 2, 4, 1, 3, 0, 4, 4]),
        (ConsistentStrategy.rendezvous, [0, 4, 3, 4, 0, 1, 0, 2]),
        (ConsistentStrategy.maglev, [4, 2, 3, 4, 3, 1, 4, 4]),
    ])
    func picksForFixedKeysNeverChange(_ strategy: ConsistentStrategy, _ expected: [Int]) {
        var balancer = strategy.make(identities(5))
        let backends = Array(repeating: BackendView(), count: 5)
        var random = SeededRandom()
        let picked = Self.goldenKeys.map {
            balancer.pick(from: backends, context: PickContext(hashKey: $0), random: &random)
        }
        #expect(picked == expected)
    }

    @Test(arguments: ConsistentStrategy.allCases)
    func independentInstancesAgreeWhateverTheOrder(_ strategy: ConsistentStrategy) {
        let names = identities(10)
        let keys = randomKeys(10_000, seed: 1)
        var first = strategy.make(names)
        var second = strategy.make(names)
        var reordered = strategy.make(names.reversed())
        let expected = assign(keys, &first, names)
        #expect(assign(keys, &second, names) == expected)
        #expect(assign(keys, &reordered, names.reversed()) == expected)
    }

    @Test(arguments: ConsistentStrategy.allCases)
    func removingOneOfTenMovesAtMostATenthPlusTwoPercent(_ strategy: ConsistentStrategy) {
        let names = identities(10)
        let removed = names[6]
        let remaining = names.filter { $0 != removed }
        let keys = randomKeys(100_000, seed: 2)
        var full = strategy.make(names)
        var shrunk = strategy.make(remaining)
        let before = assign(keys, &full, names)
        let after = assign(keys, &shrunk, remaining)
        let moved = movedFraction(before, after)
        #expect(moved <= 1.0 / 10 + 0.02, "moved \(moved)")
        if strategy != .maglev {
            // Exactly the removed backend's keys move, and no others.
            #expect(zip(before, after).allSatisfy { $0 == $1 || $0 == removed })
        }
    }

    @Test(arguments: ConsistentStrategy.allCases)
    func addingAnEleventhMovesAtMostATenthPlusTwoPercent(_ strategy: ConsistentStrategy) {
        let names = identities(10)
        let grown = identities(11)
        let keys = randomKeys(100_000, seed: 3)
        var before = strategy.make(names)
        var after = strategy.make(grown)
        let old = assign(keys, &before, names)
        let new = assign(keys, &after, grown)
        let moved = movedFraction(old, new)
        #expect(moved <= 1.0 / 10 + 0.02, "moved \(moved)")
        if strategy != .maglev {
            #expect(zip(old, new).allSatisfy { $0 == $1 || $1 == grown[10] })
        }
    }

    @Test(arguments: ConsistentStrategy.allCases)
    func sharesFollowWeights(_ strategy: ConsistentStrategy) {
        let names = identities(4)
        let weights = [1, 2, 3, 4]
        var balancer = strategy.make(names, weights: weights)
        let observed = counts(assign(randomKeys(100_000, seed: 4), &balancer, names), names)
        #expect(observed.reduce(0, +) == 100_000)
        switch strategy {
        case .rendezvous, .maglev:
            // Rendezvous wins with probability exactly w/Σw; a Maglev backend holds w/Σw of the
            // slots to within a slot per round. Either way the counts are multinomial.
            let statistic = chiSquare(observed: observed, expectedShares: weights.map(Double.init))
            #expect(statistic < chiSquare3DoF999, "chi-square \(statistic) for \(observed)")
        case .ring:
            // A share is the sum of 160·w random arcs, so it varies by about 1/sqrt(160·w)
            // relative whatever the key count: allow three of those.
            for index in weights.indices {
                let expected = 100_000.0 * Double(weights[index]) / 10
                let tolerance = 3 / Double(160 * weights[index]).squareRoot()
                let relative = abs(Double(observed[index]) - expected) / expected
                #expect(relative < tolerance, "backend \(index): \(observed[index]) vs \(expected)")
            }
        }
    }

    @Test(arguments: ConsistentStrategy.allCases)
    func unavailableBackendLosesOnlyItsOwnKeys(_ strategy: ConsistentStrategy) {
        let names = identities(10)
        let keys = randomKeys(100_000, seed: 5)
        var balancer = strategy.make(names)
        let healthy = assign(keys, &balancer, names)
        var backends = Array(repeating: BackendView(), count: 10)
        backends[3].isAvailable = false
        let degraded = assign(keys, &balancer, names, backends)
        #expect(!degraded.contains(names[3]))
        #expect(!degraded.contains(nil))
        if strategy == .maglev {
            let moved = movedFraction(healthy, degraded)
            #expect(moved <= 1.0 / 10 + 0.02, "moved \(moved)")
        } else {
            #expect(zip(healthy, degraded).allSatisfy { $0 == $1 || $0 == names[3] })
        }
        // Back in rotation, every key returns where it was.
        #expect(assign(keys, &balancer, names) == healthy)
    }

    @Test(arguments: ConsistentStrategy.allCases)
    func returnsNilWithoutAvailableBackendOrOnCountMismatch(_ strategy: ConsistentStrategy) {
        var balancer = strategy.make(identities(3))
        var random = SeededRandom()
        let context = PickContext(hashKey: 42)
        let down = Array(repeating: BackendView(isAvailable: false), count: 3)
        #expect(balancer.pick(from: down, context: context, random: &random) == nil)
        #expect(balancer.pick(from: [BackendView(), BackendView()], context: context, random: &random) == nil)
        #expect(balancer.pick(from: [], context: PickContext(), random: &random) == nil)
    }

    @Test(arguments: ConsistentStrategy.allCases)
    func keylessRequestsSpreadByWeightOverAvailable(_ strategy: ConsistentStrategy) {
        var balancer = strategy.make(identities(5))
        var backends = [1, 2, 3, 4, 5].map { BackendView(weight: $0) }
        backends[4].isAvailable = false
        var random = SeededRandom(seed: 6)
        var observed = Array(repeating: 0, count: 5)
        for _ in 0..<10_000 {
            if let index = balancer.pick(from: backends, context: PickContext(), random: &random) {
                observed[index] += 1
            }
        }
        #expect(observed[4] == 0)
        #expect(observed.reduce(0, +) == 10_000)
        let statistic = chiSquare(observed: Array(observed[0..<4]), expectedShares: [1, 2, 3, 4])
        #expect(statistic < chiSquare3DoF999, "chi-square \(statistic) for \(observed)")
    }
}

@Suite struct BoundedLoadTests {
    /// Holds every picked request open: half of them share one hot key, the rest are spread.
    private func maxInFlight(_ strategy: ConsistentStrategy, balanceFactor: Double?) -> (max: Int, total: Int) {
        var balancer = strategy.make(identities(10), balanceFactor: balanceFactor)
        var backends = Array(repeating: BackendView(), count: 10)
        var random = SeededRandom(seed: 7)
        let hotKey = XXHash64.hash("hot")
        for request in 0..<2_000 {
            let key = request.isMultiple(of: 2) ? hotKey : random.next()
            if let index = balancer.pick(from: backends, context: PickContext(hashKey: key), random: &random) {
                backends[index].inFlight += 1
            }
        }
        return (backends.map(\.inFlight).max() ?? 0, backends.map(\.inFlight).reduce(0, +))
    }

    @Test(arguments: ConsistentStrategy.allCases, [0.25, 1.0])
    func noBackendExceedsTheBound(_ strategy: ConsistentStrategy, _ factor: Double) {
        let result = maxInFlight(strategy, balanceFactor: factor)
        #expect(result.total == 2_000)
        // ceil((1 + e) × mean), mean = 2000 / 10: 250 for e = 0.25, 400 for e = 1.
        let bound = factor == 0.25 ? 250 : 400
        #expect(result.max <= bound, "max in flight \(result.max)")
    }

    @Test(arguments: ConsistentStrategy.allCases)
    func withoutABoundTheHotKeyOverloadsItsBackend(_ strategy: ConsistentStrategy) {
        // The control for the test above: the hot key alone puts 1000 on one backend.
        let result = maxInFlight(strategy, balanceFactor: nil)
        #expect(result.total == 2_000)
        #expect(result.max >= 1_000, "max in flight \(result.max)")
    }

    @Test(arguments: ConsistentStrategy.allCases)
    func boundScalesWithWeight(_ strategy: ConsistentStrategy) {
        let names = identities(2)
        var bounded = strategy.make(names, weights: [3, 1], balanceFactor: 0)
        var unbounded = strategy.make(names, weights: [3, 1])
        var random = SeededRandom()
        let keys = randomKeys(400, seed: 8)
        // T = 6, W = 4: backend 0 at 5 may take one more, ceil(7 × 3/4) = 6, where an
        // unweighted bound, ceil(7/2) = 4, would refuse it; so no key leaves its backend.
        let roomy = [BackendView(weight: 3, inFlight: 5), BackendView(weight: 1, inFlight: 1)]
        var toHeavy = 0
        for key in keys {
            let context = PickContext(hashKey: key)
            let home = unbounded.pick(from: roomy, context: context, random: &random)
            #expect(bounded.pick(from: roomy, context: context, random: &random) == home)
            if home == 0 { toHeavy += 1 }
        }
        #expect(toHeavy > 200)
        // T = 7: backend 0 at 6 is full, ceil(8 × 3/4) = 6, so every key spills to backend 1.
        let full = [BackendView(weight: 3, inFlight: 6), BackendView(weight: 1, inFlight: 1)]
        for key in keys {
            #expect(bounded.pick(from: full, context: PickContext(hashKey: key), random: &random) == 1)
        }
    }
}

@Suite struct MaglevTests {
    @Test func recognisesPrimes() {
        #expect(Maglev.isPrime(65537))
        #expect(Maglev.isPrime(5_000_011))
        #expect(Maglev.isPrime(2) && Maglev.isPrime(3) && Maglev.isPrime(251))
        #expect(!Maglev.isPrime(65536) && !Maglev.isPrime(65535) && !Maglev.isPrime(1) && !Maglev.isPrime(0))
        #expect(!Maglev.isPrime(-7) && !Maglev.isPrime(25) && !Maglev.isPrime(65539 * 3))
    }

    @Test func smallTableStillCoversEveryBackend() {
        let names = identities(7)
        var balancer = Maglev(identities: names, weights: Array(repeating: 1, count: 7), tableSize: 251)
        let observed = counts(assign(randomKeys(7_000, seed: 10), &balancer, names), names)
        // 251 slots over 7 equal backends: 35 or 36 slots each (at most 2.5% from 1/7), so each
        // gets its 1000 keys to within that and the spread of 7000 draws (±30).
        #expect(observed.allSatisfy { abs($0 - 1_000) < 150 }, "\(observed)")
    }
}

@Suite struct IPHashTests {
    private let backends = Array(repeating: BackendView(), count: 5)

    private func pick(_ hash: inout IPHash, _ key: UInt64, _ backends: [BackendView]) -> Int? {
        var random = SeededRandom()
        return hash.pick(from: backends, context: PickContext(hashKey: key), random: &random)
    }

    @Test func sameKeyAlwaysGoesToTheSameBackend() {
        var first = IPHash(weights: [1, 1, 1, 1, 1])
        var second = IPHash(weights: [1, 1, 1, 1, 1])
        // key % 5 with equal weights: pinned so that a change in the mapping shows.
        #expect([0, 1, 7, 13, 1_000_004].map { pick(&first, $0, backends) } == [0, 1, 2, 3, 4])
        for key in randomKeys(1_000, seed: 11) {
            let chosen = pick(&first, key, backends)
            #expect(chosen == pick(&first, key, backends))
            #expect(chosen == pick(&second, key, backends))
        }
    }

    @Test func weightsOwnRunsOfTheWeightRange() {
        var hash = IPHash(weights: [1, 3])
        // Key mod 4: 0 belongs to backend 0, 1...3 to backend 1.
        #expect((0..<8).map { pick(&hash, UInt64($0), [BackendView(), BackendView()]) } == [0, 1, 1, 1, 0, 1, 1, 1])
    }

    @Test func unavailableBackendFailsOverDeterministicallyAndScatters() {
        var hash = IPHash(weights: [1, 1, 1, 1, 1])
        var degraded = backends
        degraded[2].isAvailable = false
        var failover: [Int: Int] = [:]
        for key in randomKeys(5_000, seed: 12) where pick(&hash, key, backends) == 2 {
            let chosen = pick(&hash, key, degraded)
            #expect(chosen != nil && chosen != 2)
            #expect(chosen == pick(&hash, key, degraded))
            failover[chosen ?? -1, default: 0] += 1
        }
        // Rehashing spreads a down backend's clients over all the others, not onto a neighbour.
        #expect(failover.keys.sorted() == [0, 1, 3, 4])
        // And keys of the available backends stay where they were.
        for key in randomKeys(5_000, seed: 13) where pick(&hash, key, backends) != 2 {
            #expect(pick(&hash, key, degraded) == pick(&hash, key, backends))
        }
    }

    @Test func fallsBackToTheNextAvailableAfterTwentyRehashes() {
        // Backend 0 owns 1000 of 1002 weight units and is down: 21 tries nearly always land
        // on it, and then the first available backend after it serves.
        var hash = IPHash(weights: [1000, 1, 1])
        let degraded = [BackendView(isAvailable: false), BackendView(isAvailable: false), BackendView()]
        for key in randomKeys(1_000, seed: 14) {
            #expect(pick(&hash, key, degraded) == 2)
        }
        #expect(pick(&hash, 0, Array(repeating: BackendView(isAvailable: false), count: 3)) == nil)
    }

    @Test func keylessRequestsSpreadAndMismatchedCountsReturnNil() {
        var hash = IPHash(weights: [1, 1, 1, 1, 1])
        var random = SeededRandom(seed: 15)
        var observed = Array(repeating: 0, count: 5)
        for _ in 0..<5_000 {
            if let index = hash.pick(from: backends, context: PickContext(), random: &random) { observed[index] += 1 }
        }
        #expect(observed.allSatisfy { $0 > 800 }, "\(observed)")
        #expect(pick(&hash, 1, [BackendView()]) == nil)
    }
}
