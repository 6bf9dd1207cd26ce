import NIOCore
import SluiceBalancing
import SluiceConfig

/// Everything hot on the request path that belongs to one event loop (DESIGN.md: round-robin
/// cursors and connection pools live per loop). Only its loop touches it.
final class LoopState {
    let eventLoop: any EventLoop
    /// Every connection timer on this loop (client and pooled upstream connections).
    let timers: LoopTimers
    /// This loop's source of chance for balancing and request ids.
    var random = FastRandom()
    private var generation = -1
    private var clusters: [String: ClusterLoopState] = [:]
    /// Clusters the last reload removed, for requests that were admitted just before it.
    private var retired: [String: ClusterLoopState] = [:]
    /// Keyed by cluster name and backend address, so that a reload keeps warm connections.
    private var pools: [String: BackendPool] = [:]
    /// Open client connections on this loop with the listener each came in on, so that a
    /// drain that times out can end them, and a reload can reach them.
    private var clients: [ObjectIdentifier: (channel: any Channel, listener: Int)] = [:]

    /// The caller untracks it when it closes (from the one close callback the connection has).
    func track(client channel: any Channel, listener: Int) {
        clients[ObjectIdentifier(channel)] = (channel, listener)
    }

    func untrack(client key: ObjectIdentifier) {
        clients[key] = nil
    }

    /// Tells every open client connection (or those of the given listeners) that the drain ran
    /// out of time; each ends its exchange with a logged cause and closes.
    func endClientConnections(listeners: Set<Int>? = nil) {
        for (channel, listener) in clients.values where listeners?.contains(listener) ?? true {
            channel.pipeline.fireUserInboundEventTriggered(DrainTimedOut())
        }
    }

    /// Asks every open client connection to end with its next response (a reload changed what a
    /// connection takes at accept).
    func askClientsToReconnect(_ event: ReconnectRequested) {
        for (channel, _) in clients.values { channel.pipeline.fireUserInboundEventTriggered(event) }
    }

    /// Tells every open client connection that a reload retired some routes.
    func announce(_ event: RoutesRetired) {
        for (channel, _) in clients.values { channel.pipeline.fireUserInboundEventTriggered(event) }
    }

    private let healthRegistry: HealthRegistry
    private let loopCount: Int

    init(eventLoop: any EventLoop, health: HealthRegistry, loopCount: Int) {
        self.eventLoop = eventLoop
        timers = LoopTimers(eventLoop: eventLoop)
        healthRegistry = health
        self.loopCount = loopCount
    }

    /// The cluster as a request on `snapshot` sees it; `latest` is the runtime's current
    /// snapshot, which this loop moves to when it is behind. A request that started before a
    /// reload but picks after it gets the newer state of the same cluster (its config, health
    /// and pools agree with one another), or the state it had before a reload removed it; an
    /// older snapshot never moves this loop, or the shared health, back to an older generation.
    /// `latest` is read only when the request's snapshot is newer than this loop's state (just
    /// after a reload), so the steady state takes no lock here.
    func cluster(named name: String, in snapshot: Snapshot, latest: @autoclosure () -> ProxyGeneration) -> ClusterLoopState? {
        if snapshot.generation > generation { adopt(latest()) }
        if snapshot.generation < generation, clusters[name] == nil { return retired[name] }
        return clusters[name]
    }

    func closeIdleConnections() {
        for pool in pools.values { pool.closeAll() }
    }

    private func adopt(_ latest: ProxyGeneration) {
        let snapshot = latest.snapshot
        var newPools: [String: BackendPool] = [:]
        var newClusters: [String: ClusterLoopState] = [:]
        for cluster in snapshot.config.clusters {
            let clusterPools = cluster.backends.map { backend -> BackendPool in
                let key = "\(cluster.name) \(backend.address)"
                let tls = latest.upstreamTLS[cluster.name]
                // New TLS or HTTP/2 settings need new connections: the pooled ones were made with the old.
                let known = pools[key].flatMap { $0.tls === tls && $0.http2 == cluster.http2 ? $0 : nil }
                if known == nil { pools[key]?.closeAll() }
                let pool = known ?? BackendPool(eventLoop: eventLoop, timers: timers, backend: backend, pool: cluster.pool, tls: tls,
                                                  http2: cluster.http2)
                pool.update(pool: cluster.pool)
                newPools[key] = pool
                return pool
            }
            let hedgesAtP95 = snapshot.config.routes.contains { $0.cluster == cluster.name && $0.hedge?.delay == .p95 }
            let health = healthRegistry.health(for: cluster)
            // Unchanged: its balancer state (cursors, latency averages), retry budget and
            // observed p95 carry on.
            if let known = clusters[cluster.name], known.config == cluster, known.health === health,
               known.tracksLatency == hedgesAtP95
            {
                newClusters[cluster.name] = known
                continue
            }
            newClusters[cluster.name] = ClusterLoopState(
                config: cluster, health: health, pools: clusterPools, loopCount: loopCount,
                tracksLatency: hedgesAtP95)
        }
        for (key, pool) in pools where newPools[key] == nil { pool.closeAll() }
        retired = clusters.filter { newClusters[$0.key] == nil }
        pools = newPools
        clusters = newClusters
        generation = snapshot.generation
    }
}

/// Fired into every client pipeline when `timeouts.drain` runs out.
struct DrainTimedOut: Sendable {}

/// Fired into every client pipeline when a reload changed what a connection takes at accept
/// (trusted proxies, access lists, limits, timeouts): the response in progress, or else the
/// next one, carries `Connection: close`. Idle connections are not cut: a client sending on
/// one at that moment would lose its request.
struct ReconnectRequested: Sendable {
    /// Set when the access lists or trusted proxies changed: the peer is checked again at once
    /// (a denied one is closed after the response in progress; trust is recomputed).
    let connectionGuard: ConnectionGuard?
    let trustedProxies: [CIDR]
}

/// Fired into every client pipeline after a reload removed these routes: a
/// request still running on one of them may go on for `drainTimeout`, then it is ended.
struct RoutesRetired: Sendable {
    let routes: Set<String>
    /// The generation that retired them; requests on it or later are not affected.
    let generation: Int
    let drainTimeout: TimeAmount
}
