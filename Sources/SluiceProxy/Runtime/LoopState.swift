import NIOCore
import SluiceBalancing
import SluiceConfig

/// Balancing state of one cluster on one event loop: the algorithm's own state and what it
/// sees of each backend.
final class ClusterLoopState {
    let config: ClusterConfig
    var views: [BackendView]
    let pools: [BackendPool]
    /// `host:port` of each backend, formatted once.
    let addresses: [String]
    private var roundRobin = RoundRobin()
    private var weightedRoundRobin = WeightedRoundRobin()

    init(config: ClusterConfig, pools: [BackendPool]) {
        self.config = config
        views = config.backends.map { BackendView(weight: $0.weight) }
        addresses = config.backends.map(\.address)
        self.pools = pools
    }

    /// Concrete balancer types rather than `any Balancer`, so that the per-request call is
    /// direct and specialised.
    func pick(random: inout FastRandom) -> Int? {
        switch config.balancer {
        case .roundRobin: roundRobin.pick(from: views, context: PickContext(), random: &random)
        case .weightedRoundRobin: weightedRoundRobin.pick(from: views, context: PickContext(), random: &random)
        }
    }
}

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

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
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
            newClusters[cluster.name] = ClusterLoopState(config: cluster, pools: clusterPools)
        }
        for (key, pool) in pools where newPools[key] == nil { pool.closeAll() }
        pools = newPools
        clusters = newClusters
        generation = snapshot.generation
    }
}

/// Fired into every client pipeline when `timeouts.drain` runs out.
struct DrainTimedOut: Sendable {}
