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
         accessLogger: Logger) throws {
        limitGroup = group ?? eventLoops[0]
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
