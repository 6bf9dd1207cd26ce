import DequeModule
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceConfig

/// Why no upstream connection could be had.
enum UpstreamConnectError: Error {
    case timeout
    case refused(String)
    /// TCP connected, TLS did not: the certificate, the name, the CA or the versions disagree.
    case tlsHandshake(String)
}

/// Keep-alive connections to one backend from one event loop. Only that event loop touches
/// it, so it needs no locks. A connection comes back only after a complete exchange whose
/// response allowed keep-alive; one closed by the backend drops out of the pool at once (its
/// close future) and is checked again before reuse.
final class BackendPool {
    let eventLoop: any EventLoop
    let backend: BackendConfig
    private var pool: PoolConfig
    private var idleTimeout: TimeAmount
    private var idle: Deque<UpstreamConnection> = []
    private let address: SocketAddress?
    /// Set for a cluster with `tls`: every connection is HTTPS.
    let tls: UpstreamTLS?
    /// Set for a cluster with `http2`: requests are streams on `sessions`, not pooled connections.
    let http2: ClusterHTTP2Config?
    private var sessions: HTTP2Sessions?

    /// The loop's heap for the pooled connections' idle timers.
    private let timers: LoopTimers

    /// `timers` nil: a heap of its own (tests that build a pool alone).
    init(eventLoop: any EventLoop, timers: LoopTimers? = nil, backend: BackendConfig, pool: PoolConfig, tls: UpstreamTLS? = nil,
         http2: ClusterHTTP2Config? = nil) {
        self.eventLoop = eventLoop
        self.timers = timers ?? LoopTimers(eventLoop: eventLoop)
        self.backend = backend
        self.pool = pool
        self.tls = tls
        self.http2 = http2
        idleTimeout = TimeAmount(pool.idleTimeout)
        // An IP literal is resolved here once, so no request waits on name resolution.
        self.address = try? SocketAddress(ipAddress: backend.host, port: backend.port)
        if let http2 { sessions = HTTP2Sessions(pool: self, config: http2, idleTimeout: idleTimeout) }
    }

    func update(pool: PoolConfig) {
        self.pool = pool
        idleTimeout = TimeAmount(pool.idleTimeout)
        sessions?.idleTimeout = idleTimeout
        while idle.count > pool.maxIdle { idle.removeFirst().close() }
    }

    /// Hands over an idle pooled connection if one is alive (synchronously), else connects.
    /// With `fresh`, always connects: for a retry after a pooled connection went stale.
    /// On an HTTP/2 cluster: a new stream, on a connection with room for it (a stream is never
    /// stale, so `fresh` does not apply).
    func acquire(connectTimeout: TimeAmount, fresh: Bool = false, _ completion: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        if let sessions { return sessions.openStream(connectTimeout: connectTimeout, completion) }
        while !fresh, let connection = idle.popLast() {
            connection.idleTimer?.clear()
            if connection.channel.isActive {
                return completion(.success(connection))
            }
        }
        connect(timeout: connectTimeout, completion)
    }

    /// Whether the next request needs no new connection.
    var hasIdleConnection: Bool { sessions?.hasRoom ?? !idle.isEmpty }

    /// Returns a connection after a complete, keep-alive exchange. A stream is never reused: it
    /// closes by itself once both sides ended. Closing it in the same tick would reset it
    /// (RST_STREAM, which backends count against rapid reset); on the next it is a no-op, and
    /// frees a stream that never carried a request.
    func release(_ connection: UpstreamConnection) {
        if connection.isStream {
            connection.handler.delegate = nil
            connection.endStream()
            let channel = connection.channel
            return eventLoop.assumeIsolated().execute { channel.close(promise: nil) }
        }
        connection.handler.delegate = nil
        connection.handler.setReadsPaused(false)
        guard connection.channel.isActive, idle.count < pool.maxIdle else {
            connection.close()
            return
        }
        idle.append(connection)
        connection.idleTimer?.set(after: idleTimeout)
    }

    /// Idle connections close now; HTTP/2 connections as soon as their streams are done.
    func closeAll() {
        sessions?.closeAll()
        while let connection = idle.popLast() {
            connection.close()
        }
    }

    private func remove(_ connection: UpstreamConnection) {
        if let index = idle.firstIndex(where: { $0 === connection }) {
            idle.remove(at: index)
            connection.idleTimer?.cancel()
        }
    }

    private func connect(timeout: TimeAmount, _ completion: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        openChannel(timeout: timeout, configure: { channel in
            // Sluice frames each upstream request itself (RequestValidation decided it).
            var encoder = HTTPRequestEncoder.Configuration()
            encoder.automaticallySetFramingHeaders = false
            try channel.pipeline.syncOperations.addHandlers([
                HTTPRequestEncoder(configuration: encoder),
                // Bytes after a 101 (a backend's first WebSocket frames) go on to the tunnel
                // when the decoder is removed; nothing else removes it.
                ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes)),
                UpstreamHandler(),
            ])
        }) { result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let channel):
                do {
                    let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
                    let connection = UpstreamConnection(channel: channel, handler: handler, idleTimeout: self.idleTimeout,
                                                        timers: self.timers)
                    // Fires only while the connection idles in the pool (acquire clears it).
                    connection.idleTimer?.onExpiry = { [weak self, weak connection] in
                        guard let self, let connection else { return }
                        self.remove(connection)
                        connection.close()
                    }
                    channel.closeFuture.assumeIsolated().whenComplete { [weak self, weak connection] _ in
                        guard let self, let connection else { return }
                        self.remove(connection)
                    }
                    completion(.success(connection))
                } catch {
                    channel.close(promise: nil)
                    completion(.failure(error))
                }
            }
        }
    }

    /// A TCP connection to the backend, through its TLS handshake when the cluster has `tls`,
    /// with `configure` run on its pipeline behind TLS. Failures come as `UpstreamConnectError`.
    func openChannel(timeout: TimeAmount, configure: @escaping @Sendable (any Channel) throws -> Void,
                     _ completion: @escaping (Result<any Channel, any Error>) -> Void) {
        let (tls, backend) = (self.tls, self.backend)
        // Only for TLS: a promise never completed is a leak (and a crash in debug builds).
        let handshake = tls.map { _ in eventLoop.makePromise(of: Void.self) }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls, let handshake {
                        try channel.pipeline.syncOperations.addHandlers(tls.handlers(for: backend, handshake: handshake))
                    }
                    try configure(channel)
                }
            }
        let description = backend.address
        let tcp = address.map { bootstrap.connect(to: $0) } ?? bootstrap.connect(host: backend.host, port: backend.port)
        let connected = handshake.map { Self.afterHandshake(tcp, $0, timeout: timeout, on: eventLoop, backend: description) } ?? tcp
        connected.assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                if case ChannelError.connectTimeout = error {
                    completion(.failure(UpstreamConnectError.timeout))
                } else if let failure = error as? UpstreamConnectError {
                    completion(.failure(failure))
                } else {
                    completion(.failure(UpstreamConnectError.refused("\(description): \(error)")))
                }
            case .success(let channel):
                completion(.success(channel))
            }
        }
    }

    /// The TCP connection once its TLS handshake is done, within what is left of `timeout`
    /// (a backend that accepts but never answers the handshake is a connect timeout).
    private static func afterHandshake(_ tcp: EventLoopFuture<any Channel>, _ handshake: EventLoopPromise<Void>, timeout: TimeAmount,
                                       on loop: any EventLoop, backend: String) -> EventLoopFuture<any Channel> {
        let timer = loop.scheduleTask(in: timeout) { handshake.fail(ChannelError.connectTimeout(timeout)) }
        tcp.whenFailure { error in
            timer.cancel()
            handshake.fail(error)
        }
        return tcp.flatMap { channel in
            handshake.futureResult.flatMapError { error in
                channel.close(promise: nil)
                if case ChannelError.connectTimeout = error { return loop.makeFailedFuture(error) }
                return loop.makeFailedFuture(UpstreamConnectError.tlsHandshake("\(backend): \(error)"))
            }.map { channel }
        }.always { _ in timer.cancel() }
    }
}
