import SluiceBalancing

/// The backends every algorithm is built for and picks among.
struct BenchCluster {
    let identities: [String]
    let weights: [Int]

    init(count: Int) {
        identities = (0..<count).map { "10.0.\($0 / 256).\($0 % 256):8080" }
        weights = (0..<count).map { 1 + $0 % 4 }
    }
}

/// One row of the table: a name and how to build the balancer for a cluster.
struct PickCase: Sendable {
    let name: String
    /// Median nanoseconds per pick, and the sum of the picks (printed, so they cannot be dropped).
    let measure: @Sendable (BenchCluster) -> (nanosecondsPerPick: Double, checksum: Int)

    /// Generic over the balancer so that `measurePicks` is specialised for each one, as the
    /// data path's calls are.
    init<B: Balancer>(_ name: String, _ make: @escaping @Sendable (BenchCluster) -> B) {
        self.name = name
        self.measure = { cluster in measurePicks(make(cluster), cluster: cluster) }
    }
}

let pickCases: [PickCase] = [
    PickCase("round_robin") { _ in RoundRobin() },
    PickCase("weighted_round_robin") { _ in WeightedRoundRobin() },
    PickCase("random") { _ in RandomPick() },
    PickCase("weighted_random") { _ in WeightedRandom() },
    PickCase("least_connections") { _ in LeastConnections() },
    PickCase("power_of_two") { _ in PowerOfTwo() },
    PickCase("peak_ewma") { _ in PeakEWMA() },
    // ---- Hash strategies: one line each (signatures as in their files today). ----
    PickCase("ip_hash") { IPHash(weights: $0.weights) },
    PickCase("consistent_hash") { ConsistentHashRing(identities: $0.identities, weights: $0.weights, virtualNodes: 160) },
    PickCase("consistent_hash (bounded 0.25)") {
        ConsistentHashRing(identities: $0.identities, weights: $0.weights, virtualNodes: 160, balanceFactor: 0.25)
    },
    PickCase("rendezvous") { Rendezvous(identities: $0.identities, weights: $0.weights) },
    PickCase("maglev") { Maglev(identities: $0.identities, weights: $0.weights, tableSize: 65537) },
    PickCase("maglev (bounded 0.25)") { Maglev(identities: $0.identities, weights: $0.weights, tableSize: 65537, balanceFactor: 0.25) },
]

let pickBackendCounts = [3, 30, 300]

func runPickBenchmark() {
    let clusters = pickBackendCounts.map { BenchCluster(count: $0) }
    let nameWidth = max(9, pickCases.map(\.name.count).max() ?? 0)
    print("ns per pick (median of \(measuredRounds) rounds of at least \(minimumRoundNanoseconds / 1_000_000) ms each)")
    print("")
    print("| " + "algorithm".leftAligned(nameWidth) + " |" + pickBackendCounts.map { padded("\($0)", 8) + " |" }.joined())
    print("|" + String(repeating: "-", count: nameWidth + 2) + "|" + pickBackendCounts.map { _ in "--------:|" }.joined())
    var checksum = 0
    for pickCase in pickCases {
        let cells = clusters.map { cluster in
            let result = pickCase.measure(cluster)
            checksum &+= result.checksum
            return padded(formatted(result.nanosecondsPerPick), 8) + " |"
        }
        print("| " + pickCase.name.leftAligned(nameWidth) + " |" + cells.joined())
    }
    print("")
    print("(checksum \(checksum))")
}

private let viewVariants = 16
private let measuredRounds = 7
private let minimumRoundNanoseconds: UInt64 = 20_000_000

/// Median nanoseconds per pick of `balancer` over views of `cluster` with varied in-flight
/// counts, a rotating hash key and an advancing clock.
private func measurePicks<B: Balancer>(_ balancer: B, cluster: BenchCluster) -> (nanosecondsPerPick: Double, checksum: Int) {
    var balancer = balancer
    var random = SplitMix64(seed: 1)
    let views: [[BackendView]] = (0..<viewVariants).map { _ in
        cluster.weights.map { BackendView(weight: $0, inFlight: Int.random(in: 0..<16, using: &random)) }
    }
    var clock: UInt64 = 1_000_000_000

    // Warm-up, with latency samples so that latency-aware state is varied, as in service.
    for step in 0..<50_000 {
        let context = PickContext(hashKey: UInt64(step) &* 0x9E37_79B9_7F4A_7C15, nowNanoseconds: clock)
        if let chosen = balancer.pick(from: views[step % viewVariants], context: context, random: &random) {
            let latency = 1_000_000 + random.next() % 20_000_000
            balancer.observe(backend: chosen, latencyNanoseconds: latency, nowNanoseconds: clock)
        }
        clock += 10_000
    }

    var checksum = 0
    var iterations = 1_000
    while true {
        let round = timePicks(&balancer, views: views, iterations: iterations, clock: &clock, random: &random)
        checksum &+= round.checksum
        if round.nanoseconds >= minimumRoundNanoseconds { break }
        iterations *= 2
    }
    var perPick: [Double] = []
    for _ in 0..<measuredRounds {
        let round = timePicks(&balancer, views: views, iterations: iterations, clock: &clock, random: &random)
        checksum &+= round.checksum
        perPick.append(Double(round.nanoseconds) / Double(iterations))
    }
    return (perPick.sorted()[measuredRounds / 2], checksum)
}

/// Nanoseconds taken by `iterations` picks, and the sum of the picks.
@inline(never)
private func timePicks<B: Balancer>(
    _ balancer: inout B,
    views: [[BackendView]],
    iterations: Int,
    clock: inout UInt64,
    random: inout SplitMix64
) -> (nanoseconds: UInt64, checksum: Int) {
    var checksum = 0
    let start = monotonicNanoseconds()
    for step in 0..<iterations {
        let context = PickContext(hashKey: UInt64(step) &* 0x9E37_79B9_7F4A_7C15, nowNanoseconds: clock)
        checksum &+= balancer.pick(from: views[step & (viewVariants - 1)], context: context, random: &random) ?? -1
        clock &+= 1_000
    }
    return (monotonicNanoseconds() - start, checksum)
}

extension String {
    /// Left-aligned in `width` columns.
    fileprivate func leftAligned(_ width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - count))
    }
}
