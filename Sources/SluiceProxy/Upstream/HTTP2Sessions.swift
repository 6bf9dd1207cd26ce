import NIOCore
import NIOHTTP1
import NIOHTTP2
import SluiceConfig

/// The HTTP/2 connections of one backend pool (one backend, one event loop). Each request is a
/// stream on the first connection with room; a new connection is opened only when every one is
/// full, going away, or connecting with as many requests waiting as it will carry. Only the
/// pool's event loop touches it.
final class HTTP2Sessions {
    private unowned let pool: BackendPool
    private let config: ClusterHTTP2Config
    private let scheme: HTTP2FramePayloadToHTTP1ClientCodec.HTTPProtocol
    private let address: String
    /// A reload's `pool.idle_timeout` reaches the open connections too.
    var idleTimeout: TimeAmount {
        didSet { for session in sessions { session.update(idleTimeout: idleTimeout) } }
    }
    private var sessions: [HTTP2Session] = []
    /// Connections being opened, each with the requests that wait for it.
    private var connecting: [PendingSession] = []
    /// Set by `closeAll`: the pool is retired, and no connection stays open in it.
    private var closing = false

    init(pool: BackendPool, config: ClusterHTTP2Config, idleTimeout: TimeAmount) {
        self.pool = pool
        self.config = config
        self.idleTimeout = idleTimeout
        scheme = pool.tls == nil ? .http : .https
        address = pool.backend.address
    }

    var hasRoom: Bool { sessions.contains { $0.hasRoom(config.maxConcurrentStreams) } }

    func openStream(connectTimeout: TimeAmount, _ completion: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        if let session = sessions.first(where: { $0.hasRoom(config.maxConcurrentStreams) }) {
            return open(on: session, completion)
        }
        if let pending = connecting.first(where: { $0.waiters.count < config.maxConcurrentStreams }) {
            return pending.waiters.append(completion)
        }
        let pending = PendingSession(completion)
        connecting.append(pending)
        connect(timeout: connectTimeout) { [self] result in
            connecting.removeAll { $0 === pending }
            switch result {
            case .failure(let error):
                for waiter in pending.waiters { waiter(.failure(error)) }
            case .success(let session):
                sessions.append(session)
                for waiter in pending.waiters { open(on: session, waiter) }
                if closing { session.retire() }
            }
        }
    }

    /// Connections without streams close now; the others once their last stream ends. One
    /// still connecting serves its waiters, then closes the same way.
    func closeAll() {
        closing = true
        for session in sessions { session.retire() }
    }

    private func open(on session: HTTP2Session, _ completion: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        session.streamOpened()
        let (scheme, address) = (self.scheme, self.address)
        session.multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandlers([HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: scheme), UpstreamHandler()])
            }
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                session.streamClosed()
                completion(.failure(UpstreamConnectError.refused("\(address): no HTTP/2 stream: \(error)")))
            case .success(let stream):
                guard let handler = try? stream.pipeline.syncOperations.handler(type: UpstreamHandler.self) else {
                    session.streamClosed()
                    stream.close(promise: nil)
                    return completion(.failure(UpstreamConnectError.refused("\(address): no HTTP/2 stream")))
                }
                // Never counted as reused: a failed stream is the backend's failure, for outlier
                // detection and the retry budget, not a stale connection to retry at once on a
                // new one (which, for 100 streams of a connection that died, would be 100 connects).
                let connection = UpstreamConnection(channel: stream, handler: handler, idleTimeout: nil)
                connection.onStreamEnd = { session.streamClosed() }
                stream.closeFuture.assumeIsolated().whenComplete { _ in connection.endStream() }
                completion(.success(connection))
            }
        }
    }

    private func connect(timeout: TimeAmount, _ completion: @escaping (Result<HTTP2Session, any Error>) -> Void) {
        let config = self.config
        pool.openChannel(timeout: timeout, configure: { channel in
            var connection = NIOHTTP2Handler.ConnectionConfiguration()
            // No server push; streams take `initial_window_size` of a response ahead of the client.
            connection.initialSettings = [
                HTTP2Setting(parameter: .enablePush, value: 0),
                HTTP2Setting(parameter: .initialWindowSize, value: config.initialWindowSize),
            ]
            connection.targetWindowSize = min(Int(Int32.max), config.initialWindowSize * 4)
            var stream = NIOHTTP2Handler.StreamConfiguration()
            stream.targetWindowSize = config.initialWindowSize
            stream.outboundBufferSizeHighWatermark = 64 * 1024
            stream.outboundBufferSizeLowWatermark = 32 * 1024
            let sync = channel.pipeline.syncOperations
            _ = try sync.configureHTTP2Pipeline(mode: .client, connectionConfiguration: connection, streamConfiguration: stream) { pushed in
                pushed.close()
            }
            try sync.addHandler(HTTP2SessionWatcher())
        }) { [self] result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let channel):
                do {
                    let sync = channel.pipeline.syncOperations
                    let session = HTTP2Session(channel: channel, multiplexer: try sync.handler(type: NIOHTTP2Handler.self).syncMultiplexer(),
                                               watcher: try sync.handler(type: HTTP2SessionWatcher.self), idleTimeout: idleTimeout)
                    channel.closeFuture.assumeIsolated().whenComplete { [weak self] _ in
                        session.idleTimer.cancel()
                        self?.sessions.removeAll { $0 === session }
                    }
                    completion(.success(session))
                } catch {
                    channel.close(promise: nil)
                    completion(.failure(UpstreamConnectError.refused("\(address): \(error)")))
                }
            }
        }
    }
}

/// Requests waiting for one connection being opened.
private final class PendingSession {
    var waiters: [(Result<UpstreamConnection, any Error>) -> Void]
    init(_ first: @escaping (Result<UpstreamConnection, any Error>) -> Void) { waiters = [first] }
}

/// One HTTP/2 connection to a backend.
final class HTTP2Session {
    let channel: any Channel
    let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    private let watcher: HTTP2SessionWatcher
    /// Closes the connection after `pool.idle_timeout` without streams.
    let idleTimer: DeadlineTimer
    private var idleTimeout: TimeAmount
    private(set) var openStreams = 0
    /// No new stream starts here: the backend sent GOAWAY or an error, or the pool is closing.
    private(set) var goingAway = false

    init(channel: any Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, watcher: HTTP2SessionWatcher, idleTimeout: TimeAmount) {
        self.channel = channel
        self.multiplexer = multiplexer
        self.watcher = watcher
        self.idleTimeout = idleTimeout
        idleTimer = DeadlineTimer(eventLoop: channel.eventLoop, step: idleTimeout)
        idleTimer.onExpiry = { [weak self] in self?.channel.close(promise: nil) }
        watcher.onGoAway = { [weak self] in self?.retire() }
        idleTimer.set(after: idleTimeout)
    }

    /// No new stream starts here; the connection closes once its streams are done.
    func retire() {
        goingAway = true
        if openStreams == 0 { channel.close(promise: nil) }
    }

    func update(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        if openStreams == 0, !goingAway { idleTimer.set(after: idleTimeout) }
    }

    /// Room for one more stream, within Sluice's cap and the backend's SETTINGS.
    func hasRoom(_ cap: Int) -> Bool {
        !goingAway && channel.isActive && openStreams < min(cap, watcher.peerMaxStreams)
    }

    func streamOpened() {
        openStreams += 1
        idleTimer.clear()
    }

    func streamClosed() {
        openStreams -= 1
        guard openStreams == 0 else { return }
        if goingAway { channel.close(promise: nil) } else { idleTimer.set(after: idleTimeout) }
    }
}

/// Behind the HTTP/2 handler on an upstream connection: reads the backend's
/// SETTINGS_MAX_CONCURRENT_STREAMS and GOAWAY from the connection's own frames.
final class HTTP2SessionWatcher: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    private(set) var peerMaxStreams = Int.max
    var onGoAway: () -> Void = {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data).payload {
        case .settings(.settings(let settings)):
            for setting in settings where setting.parameter == .maxConcurrentStreams { peerMaxStreams = setting.value }
        case .goAway:
            onGoAway()
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO reports one stream's error here too, and a connection error only after its own
        // GOAWAY, without closing: either way no new stream starts here, and the connection
        // closes once the streams in flight are done. I/O and TLS errors close it themselves.
        onGoAway()
    }
}
