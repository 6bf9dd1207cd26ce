import SluiceBalancing
import SluiceConfig

/// The configured algorithm as one enum of concrete types rather than `any Balancer`, so the
/// per-request call is direct and specialised.
enum ClusterBalancer {
    case roundRobin(RoundRobin)
    case weightedRoundRobin(WeightedRoundRobin)
    case random(RandomPick)
    case weightedRandom(WeightedRandom)
    case leastConnections(LeastConnections)
    case powerOfTwo(PowerOfTwo)
    case peakEWMA(PeakEWMA)
    case ipHash(IPHash)
    case consistentHash(ConsistentHashRing)
    case rendezvous(Rendezvous)
    case maglev(Maglev)

    private static var placeholder: ClusterBalancer { .roundRobin(RoundRobin()) }

    init(_ config: ClusterConfig) {
        let identities = config.backends.map(\.address)
        let weights = config.backends.map(\.weight)
        let factor = config.hash.balanceFactor > 0 ? config.hash.balanceFactor : nil
        switch config.balancer {
        case .roundRobin: self = .roundRobin(RoundRobin())
        case .weightedRoundRobin: self = .weightedRoundRobin(WeightedRoundRobin())
        case .random: self = .random(RandomPick())
        case .weightedRandom: self = .weightedRandom(WeightedRandom())
        case .leastConnections: self = .leastConnections(LeastConnections())
        case .powerOfTwo: self = .powerOfTwo(PowerOfTwo())
        case .peakEWMA: self = .peakEWMA(PeakEWMA())
        case .ipHash: self = .ipHash(IPHash(weights: weights))
        case .consistentHash:
            self = .consistentHash(ConsistentHashRing(
                identities: identities, weights: weights, virtualNodes: config.hash.virtualNodes, balanceFactor: factor))
        case .rendezvous: self = .rendezvous(Rendezvous(identities: identities, weights: weights, balanceFactor: factor))
        case .maglev:
            self = .maglev(Maglev(identities: identities, weights: weights, tableSize: config.hash.maglevTableSize, balanceFactor: factor))
        }
    }

    /// Each case moves its balancer out and back, leaving a trivial placeholder meanwhile, so
    /// that mutating it does not copy its arrays (the enum would otherwise hold a second reference).
    mutating func pick(from views: [BackendView], context: PickContext, random: inout some RandomNumberGenerator) -> Int? {
        switch self {
        case .roundRobin(var b):
            self = .placeholder
            defer { self = .roundRobin(b) }
            return Self.pick(&b, views, context, &random)
        case .weightedRoundRobin(var b):
            self = .placeholder
            defer { self = .weightedRoundRobin(b) }
            return Self.pick(&b, views, context, &random)
        case .random(var b):
            self = .placeholder
            defer { self = .random(b) }
            return Self.pick(&b, views, context, &random)
        case .weightedRandom(var b):
            self = .placeholder
            defer { self = .weightedRandom(b) }
            return Self.pick(&b, views, context, &random)
        case .leastConnections(var b):
            self = .placeholder
            defer { self = .leastConnections(b) }
            return Self.pick(&b, views, context, &random)
        case .powerOfTwo(var b):
            self = .placeholder
            defer { self = .powerOfTwo(b) }
            return Self.pick(&b, views, context, &random)
        case .peakEWMA(var b):
            self = .placeholder
            defer { self = .peakEWMA(b) }
            return Self.pick(&b, views, context, &random)
        case .ipHash(var b):
            self = .placeholder
            defer { self = .ipHash(b) }
            return Self.pick(&b, views, context, &random)
        case .consistentHash(var b):
            self = .placeholder
            defer { self = .consistentHash(b) }
            return Self.pick(&b, views, context, &random)
        case .rendezvous(var b):
            self = .placeholder
            defer { self = .rendezvous(b) }
            return Self.pick(&b, views, context, &random)
        case .maglev(var b):
            self = .placeholder
            defer { self = .maglev(b) }
            return Self.pick(&b, views, context, &random)
        }
    }

    /// Through an inout generic, so that every case reads as a mutation (some balancers'
    /// picks do not mutate) and the call stays specialised.
    private static func pick<B: Balancer>(_ balancer: inout B, _ views: [BackendView], _ context: PickContext,
                                          _ random: inout some RandomNumberGenerator) -> Int? {
        balancer.pick(from: views, context: context, random: &random)
    }

    /// Only peak EWMA learns from latency; the others have nothing to update.
    mutating func observe(backend: Int, latencyNanoseconds: UInt64, nowNanoseconds: UInt64) {
        guard case .peakEWMA(var b) = self else { return }
        self = .placeholder
        b.observe(backend: backend, latencyNanoseconds: latencyNanoseconds, nowNanoseconds: nowNanoseconds)
        self = .peakEWMA(b)
    }
}
