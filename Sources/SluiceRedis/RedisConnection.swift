import NIOCore
import NIOPosix

/// One TCP connection to Redis. Commands may be sent from any thread and pipeline freely;
/// replies come back in order (see `RedisCommandHandler`). Once closed, for whatever
/// reason, it stays closed: the pool opens a new one.
public final class RedisConnection: Sendable {
    public let channel: any Channel
    /// The timeout of `send` without one.
    public let commandTimeout: TimeAmount

    public var eventLoop: any EventLoop { channel.eventLoop }
    public var isActive: Bool { channel.isActive }
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    init(channel: any Channel, commandTimeout: TimeAmount) {
        self.channel = channel
        self.commandTimeout = commandTimeout
    }

    /// Connects, then sends `AUTH` and `SELECT` as configured, all within
    /// `configuration.connectTimeout`. A failed handshake closes the connection.
    public static func connect(_ configuration: RedisConfiguration, on eventLoop: any EventLoop) -> EventLoopFuture<RedisConnection> {
        let deadline = eventLoop.now + configuration.connectTimeout
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(RESPReplyDecoder()),
                        RedisCommandHandler(),
                    ])
                }
            }
        // An IP literal needs no resolver; a name goes through NIO's (getaddrinfo).
        let connected = (try? SocketAddress(ipAddress: configuration.host, port: configuration.port)).map { bootstrap.connect(to: $0) }
            ?? bootstrap.connect(host: configuration.host, port: configuration.port)
        let target = "\(configuration.host):\(configuration.port)"
        return connected
            .flatMapErrorThrowing { error in
                if case ChannelError.connectTimeout = error { throw RedisError.connectFailed("\(target): connect timed out") }
                throw RedisError.connectFailed("\(target): \(error)")
            }
            .flatMap { channel in
                let connection = RedisConnection(channel: channel, commandTimeout: configuration.commandTimeout)
                return connection.handshake(configuration, deadline: deadline)
                    .map { connection }
                    .flatMapError { error in
                        channel.close(promise: nil)
                        let reason = (error as? RedisError).map { "\($0)" } ?? "\(error)"
                        return eventLoop.makeFailedFuture(RedisError.connectFailed("\(target): \(reason)"))
                    }
            }
    }

    private func handshake(_ configuration: RedisConfiguration, deadline: NIODeadline) -> EventLoopFuture<Void> {
        var steps: [RedisCommand] = []
        if let password = configuration.password {
            steps.append(RedisCommand("AUTH", [configuration.username, password].compactMap { $0 }))
        }
        if configuration.database != 0 {
            steps.append(RedisCommand("SELECT", String(configuration.database)))
        }
        // Pipelined: both replies must be +OK (an error reply already fails its future).
        let replies = steps.map { send($0, deadline: deadline) }
        let names = steps.map(\.name)
        return EventLoopFuture.whenAllSucceed(replies, on: eventLoop).flatMapThrowing { values in
            for (name, value) in zip(names, values) where value.string != "OK" {
                throw RedisError.unexpectedReply("\(name) answered \(value)")
            }
        }
    }

    /// Sends `command`; its future fails with `.timeout` after `timeout` (default
    /// `commandTimeout`) and the connection closes.
    public func send(_ command: RedisCommand, timeout: TimeAmount? = nil) -> EventLoopFuture<RESPValue> {
        send(command, deadline: eventLoop.now + (timeout ?? commandTimeout))
    }

    public func send(_ command: RedisCommand, deadline: NIODeadline) -> EventLoopFuture<RESPValue> {
        let promise = eventLoop.makePromise(of: RESPValue.self)
        channel.writeAndFlush(RedisRequest(command: command, promise: promise, deadline: deadline)).whenFailure { error in
            // Written to a closed channel; failing twice is harmless if the handler already did.
            promise.fail(error as? RedisError ?? .connectionClosed)
        }
        return promise.futureResult
    }

    /// `send`, awaited.
    public func execute(_ command: RedisCommand, timeout: TimeAmount? = nil) async throws -> RESPValue {
        try await send(command, timeout: timeout).get()
    }

    public func close() -> EventLoopFuture<Void> {
        channel.close().recover { _ in }
    }
}
