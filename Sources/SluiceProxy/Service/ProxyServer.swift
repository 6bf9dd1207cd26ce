import Atomics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import Prometheus
import SluiceConfig

/// A running set of listeners over one event-loop group: start, drain, shut down. The
/// lifecycle `ProxyService` and the end-to-end tests both drive it.
public final class ProxyServer: Sendable {
    struct TooManyConnections: Error {}

    let group: any EventLoopGroup
    private let ownsGroup: Bool
    /// Internal for tests that reach into shared health state.
    let runtime: ProxyRuntime
    /// The bound listeners, in configuration order. Each has its own quiescing helper (it
    /// collects one server channel's children), released before the event loops stop, since a
    /// helper's deinit completes a promise on them.
    let listeners = NIOLockedValueBox<[BoundListener]>([])
    let nextListenerID = ManagedAtomic<Int>(1)
    /// Health checkers by cluster name, with the configuration each was started for.
    let checkers = NIOLockedValueBox<[String: LoopBoundChecker]>([:])
    private let admin = NIOLockedValueBox<(any Channel)?>(nil)
    let adminState = AdminState()
    /// Reloads are taken only while running (not while start is binding, nor once a drain has
    /// begun), one at a time: each waits for the one before.
    let reloadGate = NIOLockedValueBox(ReloadGate())

    struct ReloadGate {
        enum Phase { case starting, running, stopping }
        var phase = Phase.starting
        var last: Task<ReloadOutcome, Never>?
    }

    /// Closes the gate and waits for the reload in progress, if any.
    private func stopReloads() async {
        let last = reloadGate.withLockedValue { gate in
            gate.phase = .stopping
            return gate.last
        }
        _ = await last?.value
    }

    /// Returns once the server runs (true) or has begun to stop (false): for reload triggers
    /// that can fire before `start` is done, such as SIGHUP and the file watch.
    func untilRunning() async -> Bool {
        while true {
            switch reloadGate.withLockedValue({ $0.phase }) {
            case .running: return true
            case .stopping: return false
            case .starting:
                guard (try? await Task.sleep(nanoseconds: 50_000_000)) != nil else { return false }  // cancelled
            }
        }
    }

    struct BoundListener: Sendable {
        let id: Int
        let config: ListenerConfig
        let channel: any Channel
        let quiescing: ServerQuiescingHelper
        /// Read at each accept; a reload that keeps the socket swaps what is inside.
        let settings: NIOLockedValueBox<ListenerSettings>
    }

    /// A checker lives on its event loop; this only carries it to whoever stops it there.
    struct LoopBoundChecker: @unchecked Sendable {
        let checker: HealthChecker
        let eventLoop: any EventLoop
        let config: ClusterConfig
    }

    /// - Parameters:
    ///   - group: the event loops to run on; nil creates `event_loops` threads (0 = one per core).
    /// Throws `LimitSetupError` for what the loader cannot check (a JWT key's PEM, a Redis URL).
    public init(
        snapshot: Snapshot,
        group: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "sluice"),
        accessLogger: Logger = Logger(label: "sluice.access"),
        clock: any WallClock = SystemWallClock()
    ) throws {
        let threads = snapshot.config.eventLoops > 0 ? snapshot.config.eventLoops : System.coreCount
        let owns = group == nil
        ownsGroup = owns
        let group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.group = group
        var loops: [any EventLoop] = []
        for loop in group.makeIterator() { loops.append(loop) }
        do {
            runtime = try ProxyRuntime(snapshot: snapshot, eventLoops: loops, group: group, logger: logger, accessLogger: accessLogger,
                                       clock: clock)
        } catch {
            if owns { try? group.syncShutdownGracefully() }
            throw error
        }
    }

    /// Checks what the config loader cannot (a JWT key's PEM or secret, a Redis URL) without
    /// starting anything; throws an error whose description names the key.
    public static func validate(_ config: SluiceConfig) async throws {
        for (index, listener) in config.listeners.enumerated() { _ = try ListenerSettings.make(listener, index: index) }
        _ = try UpstreamTLS.forClusters(config.clusters, previous: [:])
        let limiter = try RateLimiter.make(config: config, group: MultiThreadedEventLoopGroup.singleton,
                                           logger: Logger(label: "sluice.check", factory: { _ in SwiftLogNoOpLogHandler() }))
        await limiter.shutdown(on: MultiThreadedEventLoopGroup.singleton.next())
    }

    /// The snapshot new requests run on.
    public var snapshot: Snapshot { runtime.snapshot }

    /// Current client connections.
    public var connectionCount: Int { runtime.connections.load(ordering: .relaxed) }

    /// Binds every listener; returns the bound addresses in listener order (useful with port 0).
    @discardableResult
    public func start() async throws -> [SocketAddress] {
        do {
            return try await startEverything()
        } catch {
            // Nothing will run: reload triggers waiting for the start give up.
            reloadGate.withLockedValue { $0.phase = .stopping }
            throw error
        }
    }

    private func startEverything() async throws -> [SocketAddress] {
        // Every socket is bound before any is read: with `user`, nothing is accepted (and no
        // health check connects) until root is gone.
        var bound: [SocketAddress] = []
        var channels: [any Channel] = []
        for (index, listener) in runtime.snapshot.config.listeners.enumerated() {
            let made = try await bind(listener, settings: try ListenerSettings.make(listener, index: index), accepting: false)
            listeners.withLockedValue { $0.append(made) }
            channels.append(made.channel)
            if let address = made.channel.localAddress { bound.append(address) }
        }
        let config = runtime.snapshot.config.admin
        if config.enabled {
            let channel = try await AdminServer.bind(config: config, group: group, runtime: runtime, state: adminState,
                                                     reload: { [weak self] in await self?.reload() ?? .stopped })
            admin.withLockedValue { $0 = channel }
            channels.append(channel)
            // Notice, not info: with `admin.port: 0` this line is the only way to learn the port.
            runtime.logger.notice("admin listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
        }
        if let dropped = try Privileges.drop(to: runtime.snapshot.config.user) {
            runtime.logger.notice("\(dropped)")
        }
        // Every cluster's shared health exists from the start, so /clusters shows it before traffic.
        for cluster in runtime.snapshot.config.clusters { _ = runtime.health.health(for: cluster) }
        for cluster in runtime.snapshot.config.clusters { try await startHealthCheck(cluster) }
        runtime.purgeFanout?.start()
        let cache = runtime.snapshot.config.cache
        if cache.disk.maxSize > 0 { runtime.cache.attach(try await DiskTier.open(cache, logger: runtime.logger)) }
        for channel in channels { try await channel.setOption(.autoRead, value: true).get() }
        adminState.ready.store(true, ordering: .relaxed)
        reloadGate.withLockedValue { gate in if gate.phase == .starting { gate.phase = .running } }
        return bound
    }

    /// The admin listener's address (its port when `admin.port` is 0), nil when disabled.
    public var adminAddress: SocketAddress? { admin.withLockedValue { $0?.localAddress } }

    /// The listeners' bound addresses by listener name, as a reload left them.
    public var listenerAddresses: [String: SocketAddress] {
        listeners.withLockedValue { bound in
            Dictionary(bound.compactMap { listener in listener.channel.localAddress.map { (listener.config.name, $0) } },
                       uniquingKeysWith: { first, _ in first })
        }
    }

    /// The Prometheus registry behind /metrics, for `MetricsSystem.bootstrap`.
    public var metricsRegistry: PrometheusCollectorRegistry { runtime.metrics.registry }

    /// One listener bound, with its own quiescing helper.
    /// With `accepting` false the socket listens but accepts nothing until autoRead is set.
    func bind(_ listener: ListenerConfig, settings: ListenerSettings, accepting: Bool = true) async throws -> BoundListener {
        let helper = ServerQuiescingHelper(group: group)
        let id = nextListenerID.loadThenWrappingIncrement(ordering: .relaxed)
        let slot = NIOLockedValueBox(settings)
        let channel = try await bootstrap(quiescing: helper, listenerID: id, settings: slot)
            .serverChannelOption(.autoRead, value: accepting)
            .bind(host: listener.address, port: listener.port).get()
        settings.tls?.startWatching(on: channel.eventLoop, logger: runtime.logger)
        runtime.logger.info("listening", metadata: ["listener": "\(listener.name)", "address": "\(channel.localAddress?.description ?? "?")",
                                                    "scheme": "\(settings.scheme)"])
        return BoundListener(id: id, config: listener, channel: channel, quiescing: helper, settings: slot)
    }

    /// The cluster's checker when it has a `health_check`, on an event loop of its own choosing.
    func startHealthCheck(_ cluster: ClusterConfig) async throws {
        guard let check = cluster.healthCheck, !cluster.backends.isEmpty else { return }
        let runtime = self.runtime
        let loop = group.next()
        let health = runtime.health.health(for: cluster)
        let bound = try await loop.submit {
            let checker = HealthChecker(config: cluster, check: check, health: health, eventLoop: loop, logger: runtime.logger,
                                        tls: runtime.generation.upstreamTLS[cluster.name])
            checker.start()
            return LoopBoundChecker(checker: checker, eventLoop: loop, config: cluster)
        }.get()
        checkers.withLockedValue { $0[cluster.name] = bound }
    }

    /// Stops accepting, lets in-flight requests finish (idle keep-alive connections close at
    /// once), and after `timeout` closes whatever is left. Returns true if everything
    /// finished in time.
    @discardableResult
    public func drain(timeout: Duration) async -> Bool {
        adminState.draining.store(true, ordering: .relaxed)  // /readyz says 503 from here on
        // A reload binding listeners now would add ones this drain does not quiesce.
        await stopReloads()
        let helpers = listeners.withLockedValue { $0.map(\.quiescing) }
        let promises = helpers.map { helper in
            let promise = group.next().makePromise(of: Void.self)
            helper.initiateShutdown(promise: promise)
            return promise.futureResult
        }
        let quiesced = EventLoopFuture.andAllComplete(promises, on: group.next())
        let waiter = NIOLockedValueBox<CheckedContinuation<Bool, Never>?>(nil)
        let resume: @Sendable (Bool) -> Void = { value in
            waiter.withLockedValue { continuation in
                continuation?.resume(returning: value)
                continuation = nil
            }
        }
        let clean = await withCheckedContinuation { continuation in
            waiter.withLockedValue { $0 = continuation }
            let timer = group.next().scheduleTask(in: TimeAmount(timeout)) { resume(false) }
            quiesced.whenComplete { _ in
                timer.cancel()
                resume(true)
            }
        }
        if !clean {
            runtime.logger.warning("drain timeout: closing remaining connections", metadata: ["connections": "\(connectionCount)"])
            await onEveryLoop { $0.endClientConnections() }
        }
        await onEveryLoop { $0.closeIdleConnections() }
        return clean
    }

    /// Closes everything and, if the server created its event loops, shuts them down.
    public func shutdown() async throws {
        // A reload in progress finishes first, so that nothing it binds outlives the server.
        await stopReloads()
        // Scoped: a quiescing helper's deinit completes a promise on its loop, so the last
        // reference must go before the loops stop.
        do {
            let bound = listeners.withLockedValue { listeners in
                defer { listeners = [] }
                return listeners
            }
            for listener in bound {
                listener.settings.withLockedValue { $0.tls?.stopWatching() }
                try? await listener.channel.close()
            }
        }
        if let channel = admin.withLockedValue({ $0 }) { try? await channel.close() }
        let running = checkers.withLockedValue { checkers in
            defer { checkers = [:] }
            return checkers
        }
        for bound in running.values { try? await bound.eventLoop.submit { bound.checker.stop() }.get() }
        await onEveryLoop { $0.closeIdleConnections() }
        await runtime.generation.limiter.shutdown(on: group.next())
        await runtime.purgeFanout?.stop()
        await runtime.cache.disk?.shutdown()
        if ownsGroup { try await group.shutdownGracefully() }
    }

    /// Runs `body` on each event loop with that loop's state, one loop after another.
    func onEveryLoop(_ body: @escaping @Sendable (LoopState) -> Void) async {
        let runtime = self.runtime
        for loop in group.makeIterator() {
            try? await loop.submit { body(runtime.loopState(for: loop)) }.get()
        }
    }

    private func bootstrap(quiescing: ServerQuiescingHelper, listenerID: Int,
                           settings: NIOLockedValueBox<ListenerSettings>) -> ServerBootstrap {
        let runtime = self.runtime
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Each connection keeps its receive buffer for reuse; a small first size keeps
            // idle keep-alive connections cheap, and the allocator grows it for bodies.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.initialize(channel, runtime: runtime, listenerID: listenerID,
                                        settings: settings.withLockedValue { $0 })
                }
            }
    }

    /// The client pipeline; internal so that handler tests can build it on an EmbeddedChannel.
    static func initialize(_ channel: any Channel, runtime: ProxyRuntime, listenerID: Int = 0,
                           settings: ListenerSettings = .plain) throws {
        let generation = runtime.generation
        let snapshot = generation.snapshot
        let connectionGuard = generation.connectionGuard
        let limits = snapshot.config.limits
        if runtime.connections.loadThenWrappingIncrement(ordering: .relaxed) >= limits.maxConnections {
            runtime.connections.wrappingDecrement(ordering: .relaxed)
            throw TooManyConnections()
        }
        let ip = channel.remoteAddress?.ipAddress ?? "-"
        let address = CIDR.parseAddress(ip)
        if case .failure(let refusal) = connectionGuard.admit(ip: ip, address: address, now: NIODeadline.now().uptimeNanoseconds) {
            runtime.connections.wrappingDecrement(ordering: .relaxed)
            runtime.logger.debug("connection refused", metadata: ["client": "\(ip)", "reason": "\(refusal)"])
            throw refusal
        }
        // One close callback per connection: each costs a closure and a slot in the future.
        let loopState = runtime.loopState(for: channel.eventLoop)
        loopState.track(client: channel, listener: listenerID)
        let key = ObjectIdentifier(channel)
        channel.closeFuture.assumeIsolated().whenComplete { _ in
            runtime.connections.wrappingDecrement(ordering: .relaxed)
            connectionGuard.release(ip: ip)
            loopState.untrack(client: key)
        }

        let trusted = address.map { address in
            snapshot.config.headers.trustedProxies.contains { $0.contains(address) }
        } ?? false
        let peer = ClientPeer(ip: ip, isTrusted: trusted, address: address, scheme: settings.scheme, httpsRedirect: settings.httpsRedirect)
        let connection = ClientConnection(runtime: runtime, snapshot: snapshot, settings: settings, peer: peer)
        let sync = channel.pipeline.syncOperations
        if let tls = settings.tls { try sync.addHandler(NIOSSLServerHandler(context: tls.context)) }
        guard settings.http2.enabled else { return try connection.configureHTTP1(channel) }
        if settings.tls != nil {
            try sync.addHandler(ApplicationProtocolNegotiationHandler { result, channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .negotiated("h2") = result { try connection.configureHTTP2(channel) } else { try connection.configureHTTP1(channel) }
                }
            })
        } else {
            try sync.addHandler(H2CPrefaceSniffer { isHTTP2, channel in
                if isHTTP2 { try connection.configureHTTP2(channel) } else { try connection.configureHTTP1(channel) }
            })
        }
    }
}
