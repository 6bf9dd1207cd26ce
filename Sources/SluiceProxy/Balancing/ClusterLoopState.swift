import Atomics
import SluiceBalancing
import SluiceConfig

/// One cluster as one event loop sees it: the balancer's own state, this loop's pools, and
/// the views the balancer picks from, rebuilt from the shared health on every pick.
final class ClusterLoopState {
    let config: ClusterConfig
    let health: ClusterHealth
    let pools: [BackendPool]
    /// `host:port` of each backend, formatted once.
    let addresses: [String]
    /// Per loop, so no request takes a lock for it; the floor per second is split across loops.
    var retryBudget: RetryBudget
    /// Response-head latency of this loop's tries, kept only when a route hedges after the
    /// cluster's observed p95.
    private(set) var latency = LatencyQuantile()
    let tracksLatency: Bool
    private var balancer: ClusterBalancer
    private var views: [BackendView]
    private let slowStart: SlowStart?
    private let breaker: CircuitBreakerPolicy

    init(config: ClusterConfig, health: ClusterHealth, pools: [BackendPool], loopCount: Int, tracksLatency: Bool) {
        self.config = config
        self.tracksLatency = tracksLatency
        self.health = health
        self.pools = pools
        addresses = config.backends.map(\.address)
        balancer = ClusterBalancer(config)
        views = config.backends.map { BackendView(weight: $0.weight) }
        slowStart = config.slowStart > .zero ? SlowStart(window: config.slowStart.nanoseconds) : nil
        breaker = CircuitBreakerPolicy(
            maxInFlight: config.circuitBreaker.maxInFlight > 0 ? config.circuitBreaker.maxInFlight : nil,
            maxPendingConnects: config.circuitBreaker.maxPendingConnects > 0 ? config.circuitBreaker.maxPendingConnects : nil)
        let retries = config.retries
        let floor = (retries.budgetMinPerSecond + max(1, loopCount) - 1) / max(1, loopCount)
        retryBudget = RetryBudget(percent: retries.budgetPercent, minRetriesPerSecond: floor)
    }

    /// The backend for the next try, or nil when none may take it (all draining, ejected
    /// without panic, or at their circuit-breaker caps). `excluding` holds the backends
    /// earlier tries of this request used; they are avoided while another can serve.
    func pick(hashKey: UInt64?, excluding tried: [Int], now: UInt64, random: inout FastRandom) -> Int? {
        // One pass in the common case; a second only in panic mode, rare by definition.
        let counts = refreshViews(excluding: tried, now: now, ignoringHealth: false)
        var available = counts.available
        // Envoy's panic mode: with too few healthy backends, health is ignored rather than
        // piling the whole load onto the survivors.
        if PanicThreshold.isPanicking(healthy: counts.healthy, total: counts.candidates, thresholdPercent: Double(config.panicThreshold)) {
            available = refreshViews(excluding: tried, now: now, ignoringHealth: true).available
        }
        if available == 0, !tried.isEmpty {
            // Every other backend is out: the same one again beats no try at all.
            return pick(hashKey: hashKey, excluding: [], now: now, random: &random)
        }
        guard available > 0 else { return nil }
        return balancer.pick(from: views, context: PickContext(hashKey: hashKey, nowNanoseconds: now), random: &random)
    }

    /// Brings the views up to date with the shared health: in-flight counts, slow-start
    /// weights, and whether each backend may take the next try.
    private func refreshViews(excluding tried: [Int], now: UInt64, ignoringHealth: Bool)
        -> (candidates: Int, healthy: Int, available: Int)
    {
        var candidates = 0, healthy = 0, available = 0
        for index in views.indices {
            let backend = health.backends[index]
            views[index].isAvailable = false
            guard !backend.draining.load(ordering: .relaxed) else { continue }
            candidates += 1
            let inFlight = backend.inFlight.load(ordering: .relaxed)
            views[index].inFlight = inFlight
            if let slowStart {
                views[index].weight = slowStart.weight(config.backends[index].weight, since: backend.availableSince(), now: now, scale: 100)
            }
            let isHealthy = backend.activelyHealthy.load(ordering: .relaxed) && !backend.isEjected(now: now)
            if isHealthy { healthy += 1 }
            guard isHealthy || ignoringHealth, !tried.contains(index),
                  breaker.allows(inFlight: inFlight, pendingConnects: backend.pendingConnects.load(ordering: .relaxed),
                                 needsConnect: !pools[index].hasIdleConnection)
            else { continue }
            views[index].isAvailable = true
            available += 1
        }
        return (candidates, healthy, available)
    }

    /// How one try ended: the balancer learns its latency, outlier detection its outcome.
    func record(_ outcome: UpstreamOutcome, backend: Int, latencyNanoseconds: UInt64, now: UInt64) {
        balancer.observe(backend: backend, latencyNanoseconds: latencyNanoseconds, nowNanoseconds: now)
        if tracksLatency, outcome == .success { latency.record(latencyNanoseconds, now: now) }
        health.record(outcome, backend: backend, now: now)
    }

    /// Seconds a client should wait before trying again when nothing can serve: until the
    /// first ejected backend returns, else one health-check interval, at least 1.
    func retryAfterSeconds(now: UInt64) -> Int {
        let returns = health.backends.map { $0.ejectedUntil.load(ordering: .relaxed) }.filter { $0 > now }.min()
        let nanos = returns.map { $0 - now } ?? config.healthCheck?.interval.nanoseconds ?? 1_000_000_000
        return max(1, Int((nanos + 999_999_999) / 1_000_000_000))
    }
}
