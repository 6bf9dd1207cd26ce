import Logging
import NIOCore
import SluiceConfig

/// One configuration and everything the data path builds from it: what a request reads at
/// its start and keeps until it ends. A reload makes the next generation from the file and the
/// previous generation, so that what did not change (rate-limit buckets and leases, objective
/// windows, per-peer connection counts) carries over.
final class ProxyGeneration: Sendable {
    let snapshot: Snapshot
    let limiter: RateLimiter
    let slo: SLOBook
    let accessLog: AccessLog
    let connectionGuard: ConnectionGuard
    let cache: CacheSettings
    /// HTTPS contexts by cluster name, for clusters with `tls`.
    let upstreamTLS: [String: UpstreamTLS]

    /// Throws what the config loader cannot check (RateLimiter.make): a JWT key, a Redis URL.
    init(snapshot: Snapshot, previous: ProxyGeneration?, group: any EventLoopGroup, logger: Logger, accessLogger: Logger) throws {
        let config = snapshot.config
        self.snapshot = snapshot
        // Before the limiter: a bad certificate must not leave its Redis connections behind.
        upstreamTLS = try UpstreamTLS.forClusters(config.clusters, previous: previous?.upstreamTLS ?? [:])
        limiter = try RateLimiter.make(config: config, group: group, logger: logger, previous: previous?.limiter)
        slo = SLOBook(config: config, previous: previous?.slo)
        accessLog = AccessLog(config: config.accessLog, logger: accessLogger)
        connectionGuard = ConnectionGuard(limits: config.limits, access: config.access, previous: previous?.connectionGuard)
        cache = CacheSettings(config: config)
    }
}
