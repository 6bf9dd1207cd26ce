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
    private var balancer: ClusterBalancer
    private var views: [BackendView]
    private var healthy: [Bool]
    private let slowStart: SlowStart?
    private let breaker: CircuitBreakerPolicy

    init(config: ClusterConfig, health: ClusterHealth, pools: [BackendPool], loopCount: Int) {
        self.config = config
        self.health = health
        self.pools = pools
        addresses = config.backends.map(\.address)
        balancer = ClusterBalancer(config)
        views = config.backends.map { BackendView(weight: $0.weight) }
        healthy = Array(repeating: true, count: config.backends.count)
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
        var candidates = 0
        var healthyCount = 0
        for index in views.indices {
            let backend = health.backends[index]
            views[index].inFlight = backend.inFlight.load(ordering: .relaxed)
            if backend.draining.load(ordering: .relaxed) {
                healthy[index] = false
                continue
            }
            candidates += 1
            healthy[index] = backend.activelyHealthy.load(ordering: .relaxed) && !backend.isEjected(now: now)
            if healthy[index] { healthyCount += 1 }
            if let slowStart {
                views[index].weight = slowStart.weight(config.backends[index].weight, since: backend.availableSince(), now: now, scale: 100)
            }
        }
        // Envoy's panic mode: with too few healthy backends, health is ignored rather than
        // piling the whole load onto the survivors.
        let panic = PanicThreshold.isPanicking(healthy: healthyCount, total: candidates, thresholdPercent: Double(config.panicThreshold))
        var available = 0
        for index in views.indices {
            let backend = health.backends[index]
            let inRotation = !backend.draining.load(ordering: .relaxed) && (panic || healthy[index])
            let withinCaps = breaker.allows(
                inFlight: views[index].inFlight, pendingConnects: backend.pendingConnects.load(ordering: .relaxed),
                needsConnect: !pools[index].hasIdleConnection)
            views[index].isAvailable = inRotation && withinCaps && !tried.contains(index)
            if views[index].isAvailable { available += 1 }
        }
        if available == 0, !tried.isEmpty {
            // Every other backend is out: the same one again beats no try at all.
            return pick(hashKey: hashKey, excluding: [], now: now, random: &random)
        }
        guard available > 0 else { return nil }
        return balancer.pick(from: views, context: PickContext(hashKey: hashKey, nowNanoseconds: now), random: &random)
    }

    /// How one try ended: the balancer learns its latency, outlier detection its outcome.
    func record(_ outcome: UpstreamOutcome, backend: Int, latencyNanoseconds: UInt64, now: UInt64) {
        balancer.observe(backend: backend, latencyNanoseconds: latencyNanoseconds, nowNanoseconds: now)
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
