import Atomics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SluiceConfig

/// The shared, thread-safe part of a running proxy: the current generation (configuration
/// and what is built from it, swapped atomically by a reload), the connection count, the
/// loggers, and each event loop's own state.
final class ProxyRuntime: Sendable {
    private let current: NIOLockedValueBox<ProxyGeneration>
    let connections = ManagedAtomic<Int>(0)
    let logger: Logger
    let accessLogger: Logger
    private let loops: [ObjectIdentifier: LoopBound]
    let health: HealthRegistry
    let metrics = ProxyMetrics()
    let reloads = ReloadRecord()
    /// The HTTP cache's store and collapsing registry: they outlive reloads.
    let cache: HTTPCache
    /// Carries purges to the other instances over Redis pub/sub, when configured (at start).
    let purgeFanout: PurgeFanout?
    /// Carries the Redis connections and the limiters' timers.
    let limitGroup: any EventLoopGroup

    /// LoopState is confined to its event loop; this box only carries it across the
    /// initializer boundary, and every use asserts it is on that loop.
    private struct LoopBound: @unchecked Sendable {
        let state: LoopState
    }

    /// Throws what the config loader cannot check (RateLimiter.make): a JWT key, a Redis URL.
    /// `group` carries the Redis connections and the limiters' timers (default: the first loop).
    init(snapshot: Snapshot, eventLoops: [any EventLoop], group: (any EventLoopGroup)? = nil, logger: Logger,
         accessLogger: Logger, clock: any WallClock = SystemWallClock()) throws {
        limitGroup = group ?? eventLoops[0]
        let cache = HTTPCache(config: snapshot.config.cache, clock: clock)
        self.cache = cache
        let fanoutLoop = limitGroup.next()
        purgeFanout = try PurgeFanout.url(for: snapshot.config).map {
            try PurgeFanout(url: $0, cache: cache, eventLoop: fanoutLoop, logger: logger)
        }
        current = NIOLockedValueBox(try ProxyGeneration(snapshot: snapshot, previous: nil, group: limitGroup, logger: logger,
                                                        accessLogger: accessLogger))
        self.logger = logger
        self.accessLogger = accessLogger
        health = HealthRegistry(logger: logger)
        var loops: [ObjectIdentifier: LoopBound] = [:]
        for loop in eventLoops {
            loops[ObjectIdentifier(loop)] = LoopBound(state: LoopState(eventLoop: loop, health: health, loopCount: eventLoops.count))
        }
        self.loops = loops
    }

    /// A purge here and, over Redis, on every other instance.
    func purgeEverywhere(_ selector: PurgeSelector) -> Int {
        let purged = cache.purge(selector)
        purgeFanout?.publish(selector)
        return purged
    }

    /// The generation a new request runs on; it keeps it until it finishes.
    var generation: ProxyGeneration { current.withLockedValue { $0 } }

    /// The configuration of the current generation.
    var snapshot: Snapshot { generation.snapshot }

    /// A reload's last step: from here on new requests and connections run on `next`.
    func install(_ next: ProxyGeneration) { current.withLockedValue { $0 = next } }

    func loopState(for eventLoop: any EventLoop) -> LoopState {
        eventLoop.preconditionInEventLoop()
        guard let bound = loops[ObjectIdentifier(eventLoop)] else {
            preconditionFailure("event loop \(eventLoop) is not one of this proxy's")
        }
        return bound.state
    }
}
