import NIOCore
import SluiceBalancing
import SluiceConfig

/// Everything hot on the request path that belongs to one event loop (DESIGN.md: round-robin
/// cursors and connection pools live per loop). Only its loop touches it.
final class LoopState {
    let eventLoop: any EventLoop
    /// This loop's source of chance for balancing and request ids.
    var random = FastRandom()
    private var generation = -1
    private var clusters: [String: ClusterLoopState] = [:]
    /// Keyed by cluster name and backend address, so that a reload keeps warm connections.
    private var pools: [String: BackendPool] = [:]
    /// Open client connections on this loop, so that a drain that times out can end them.
    private var clients: [ObjectIdentifier: any Channel] = [:]

    func track(client channel: any Channel) {
        let key = ObjectIdentifier(channel)
        clients[key] = channel
        channel.closeFuture.assumeIsolated().whenComplete { [weak self] _ in self?.clients[key] = nil }
    }

    /// Tells every open client connection that the drain ran out of time; each ends its
    /// exchange with a logged cause and closes.
    func endClientConnections() {
        for channel in clients.values { channel.pipeline.fireUserInboundEventTriggered(DrainTimedOut()) }
    }

    private let healthRegistry: HealthRegistry
    private let loopCount: Int

    init(eventLoop: any EventLoop, health: HealthRegistry, loopCount: Int) {
        self.eventLoop = eventLoop
        healthRegistry = health
        self.loopCount = loopCount
    }

    func cluster(named name: String, in snapshot: Snapshot) -> ClusterLoopState? {
        if snapshot.generation != generation { adopt(snapshot) }
        return clusters[name]
    }

    func closeIdleConnections() {
        for pool in pools.values { pool.closeAll() }
    }

    private func adopt(_ snapshot: Snapshot) {
        var newPools: [String: BackendPool] = [:]
        var newClusters: [String: ClusterLoopState] = [:]
        for cluster in snapshot.config.clusters {
            let clusterPools = cluster.backends.map { backend -> BackendPool in
                let key = "\(cluster.name) \(backend.address)"
                let pool = pools[key] ?? BackendPool(eventLoop: eventLoop, backend: backend, pool: cluster.pool)
                pool.update(pool: cluster.pool)
                newPools[key] = pool
                return pool
            }
            let hedgesAtP95 = snapshot.config.routes.contains { $0.cluster == cluster.name && $0.hedge?.delay == .p95 }
            newClusters[cluster.name] = ClusterLoopState(
                config: cluster, health: healthRegistry.health(for: cluster), pools: clusterPools, loopCount: loopCount,
                tracksLatency: hedgesAtP95)
        }
        for (key, pool) in pools where newPools[key] == nil { pool.closeAll() }
        pools = newPools
        clusters = newClusters
        generation = snapshot.generation
    }
}

/// Fired into every client pipeline when `timeouts.drain` runs out.
struct DrainTimedOut: Sendable {}
