import Atomics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SluiceConfig

/// The shared, thread-safe part of a running proxy: the configuration snapshot (swapped
/// atomically), the connection count, the loggers, and each event loop's own state.
final class ProxyRuntime: Sendable {
    private let current: NIOLockedValueBox<Snapshot>
    let connections = ManagedAtomic<Int>(0)
    let logger: Logger
    let accessLog: AccessLog
    private let loops: [ObjectIdentifier: LoopBound]
    let health: HealthRegistry
    let connectionGuard: ConnectionGuard
    let limiter: RateLimiter
    let metrics = ProxyMetrics()
    let slo: SLOBook

    /// LoopState is confined to its event loop; this box only carries it across the
    /// initializer boundary, and every use asserts it is on that loop.
    private struct LoopBound: @unchecked Sendable {
        let state: LoopState
    }

    /// Throws what the config loader cannot check (RateLimiter.make): a JWT key, a Redis URL.
    /// `group` carries the Redis connections and the limiters' timers (default: the first loop).
    init(snapshot: Snapshot, eventLoops: [any EventLoop], group: (any EventLoopGroup)? = nil, logger: Logger,
         accessLogger: Logger) throws {
        limiter = try RateLimiter.make(config: snapshot.config, group: group ?? eventLoops[0], logger: logger)
        slo = SLOBook(config: snapshot.config)
        current = NIOLockedValueBox(snapshot)
        self.logger = logger
        accessLog = AccessLog(config: snapshot.config.accessLog, logger: accessLogger)
        health = HealthRegistry(logger: logger)
        connectionGuard = ConnectionGuard(limits: snapshot.config.limits, access: snapshot.config.access)
        var loops: [ObjectIdentifier: LoopBound] = [:]
        for loop in eventLoops {
            loops[ObjectIdentifier(loop)] = LoopBound(state: LoopState(eventLoop: loop, health: health, loopCount: eventLoops.count))
        }
        self.loops = loops
    }

    /// The snapshot a new request runs on; it keeps it until it finishes.
    var snapshot: Snapshot { current.withLockedValue { $0 } }

    func loopState(for eventLoop: any EventLoop) -> LoopState {
        eventLoop.preconditionInEventLoop()
        guard let bound = loops[ObjectIdentifier(eventLoop)] else {
            preconditionFailure("event loop \(eventLoop) is not one of this proxy's")
        }
        return bound.state
    }
}
