import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One connection in Redis's subscribe mode (SUBSCRIBE, RESP2): every message published on
/// `channel` reaches `onMessage`, on the connection's event loop. A dropped connection is
/// opened again after the configuration's backoff, and subscribes again; what was published
/// meanwhile is lost (pub/sub has no history), which is why a purge is also applied locally.
public final class RedisSubscriber: Sendable {
    public let configuration: RedisConfiguration
    public let channel: String
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let onMessage: @Sendable (String) -> Void
    private let state = NIOLockedValueBox(State())

    private struct State {
        var connection: (any Channel)?
        var subscribed = false
        var stopped = false
        var failures = 0
    }

    public init(configuration: RedisConfiguration, channel: String, eventLoop: any EventLoop,
                logger: Logger = Logger(label: "sluice.redis"), onMessage: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.channel = channel
        self.eventLoop = eventLoop
        self.logger = logger
        self.onMessage = onMessage
    }

    /// True once Redis confirmed the subscription (and until the connection drops).
    public var isSubscribed: Bool { state.withLockedValue { $0.subscribed } }

    public func start() { connect() }

    public func stop() -> EventLoopFuture<Void> {
        let connection = state.withLockedValue { state -> (any Channel)? in
            state.stopped = true
            state.subscribed = false
            return state.connection
        }
        return connection?.close().recover { _ in } ?? eventLoop.makeSucceededVoidFuture()
    }

    private func connect() {
        guard !state.withLockedValue({ $0.stopped }) else { return }
        var handshake: [RedisCommand] = []
        if let password = configuration.password {
            handshake.append(RedisCommand("AUTH", [configuration.username, password].compactMap { $0 }))
        }
        handshake.append(RedisCommand("SUBSCRIBE", channel))
        let commands = handshake
        // Keepalive: a connection a NAT or failover silently dropped would otherwise hear
        // nothing, and never reconnect.
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(RESPReplyDecoder()),
                        SubscriptionHandler(subscriber: self, commands: commands),
                    ])
                }
            }
        bootstrap.connect(host: configuration.host, port: configuration.port).whenComplete { [self] result in
            switch result {
            case .success(let channel):
                let keep = state.withLockedValue { state -> Bool in
                    guard !state.stopped else { return false }
                    state.connection = channel
                    return true
                }
                if !keep { channel.close(promise: nil) }
            case .failure(let error):
                retry(after: "\(error)")
            }
        }
    }

    /// False when the connection must go: Redis refused AUTH or SUBSCRIBE.
    fileprivate func received(_ value: RESPValue) -> Bool {
        guard let items = value.array, let kind = items.first?.string else {
            if case .error(let message) = value {
                logger.warning("redis subscription refused", metadata: ["error": "\(message)"])
                return false
            }
            return true
        }
        switch kind {
        case "subscribe":
            state.withLockedValue { $0.subscribed = true; $0.failures = 0 }
        case "message" where items.count == 3:
            if let payload = items[2].string { onMessage(payload) }
        default:
            break
        }
        return true
    }

    fileprivate func closed() {
        state.withLockedValue { $0.subscribed = false; $0.connection = nil }
        retry(after: "connection closed")
    }

    private func retry(after reason: String) {
        let delay = state.withLockedValue { state -> TimeAmount? in
            guard !state.stopped else { return nil }
            state.failures += 1
            return configuration.backoff.delay(afterFailures: state.failures, random: Double.random(in: 0..<1))
        }
        guard let delay else { return }
        logger.info("redis subscription lost, reconnecting", metadata: ["channel": "\(channel)", "reason": "\(reason)", "in": "\(delay)"])
        eventLoop.scheduleTask(in: delay) { [self] in connect() }
    }
}

private final class SubscriptionHandler: ChannelInboundHandler {
    typealias InboundIn = RESPValue
    typealias OutboundOut = ByteBuffer

    private let subscriber: RedisSubscriber
    private let commands: [RedisCommand]

    init(subscriber: RedisSubscriber, commands: [RedisCommand]) {
        self.subscriber = subscriber
        self.commands = commands
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 128)
        for command in commands { command.encode(into: &buffer) }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Closed, it reconnects after the backoff: a refusal is retried, not left deaf.
        if !subscriber.received(unwrapInboundIn(data)) { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        subscriber.closed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
