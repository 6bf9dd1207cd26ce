import NIOCore

/// A command on its way to the handler: what to send, who waits, and until when.
struct RedisRequest: Sendable {
    var command: RedisCommand
    var promise: EventLoopPromise<RESPValue>
    var deadline: NIODeadline
}

/// The last handler of a Redis connection: writes commands, and matches replies to them in
/// order (Redis answers a connection's commands in the order it sent them; pipelining is
/// simply many requests in `pending`).
///
/// A command that is not answered by its deadline fails with `.timeout` and closes the
/// connection: its reply may still come, and every later reply would then go to the wrong
/// command. Closing fails everything pending with `.connectionClosed`, and commands written
/// after that fail at once. Error replies fail their command with `RedisError.server`.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var id: UInt64
        var promise: EventLoopPromise<RESPValue>
        var timer: Scheduled<Void>
    }

    private enum State {
        case open
        /// Closed or closing, with the error new and pending commands fail with.
        case closed(RedisError)
    }

    private var state = State.open
    private var pending = CircularBuffer<Pending>(initialCapacity: 8)
    private var nextID: UInt64 = 0

    /// Commands written and not yet answered.
    var pendingCount: Int { pending.count }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if case .closed(let error) = state {
            request.promise.fail(error)
            promise?.fail(error)
            return
        }
        guard request.deadline > context.eventLoop.now else {
            // Already late (it waited for a connection): failing it costs nothing, sending it
            // would cost the connection.
            request.promise.fail(RedisError.timeout)
            promise?.succeed()
            return
        }
        nextID &+= 1
        let id = nextID
        let timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: request.deadline) { [weak self] in
            guard let self else { return }
            self.timedOut(id, context: context)
        }
        pending.append(Pending(id: id, promise: request.promise, timer: timer))
        var buffer = context.channel.allocator.buffer(capacity: 64)
        request.command.encode(into: &buffer)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        guard let first = pending.popFirst() else {
            fail(context: context, RedisError.protocolViolation("reply with no command waiting: \(reply)"))
            return
        }
        first.timer.cancel()
        if case .error(let message) = reply {
            first.promise.fail(RedisError.server(message))
        } else {
            first.promise.succeed(reply)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let redisError = error as? RedisError ?? .connectionClosed
        fail(context: context, redisError)
    }

    private func timedOut(_ id: UInt64, context: ChannelHandlerContext) {
        guard let index = pending.firstIndex(where: { $0.id == id }) else { return }
        let timedOut = pending.remove(at: index)
        timedOut.promise.fail(RedisError.timeout)
        fail(context: context, .connectionClosed)
    }

    /// Closes the connection; everything pending fails (the first with `error` if it was a
    /// protocol error, since that reply is what broke the stream).
    private func fail(context: ChannelHandlerContext, _ error: RedisError) {
        guard case .open = state else { return }
        if case .protocolViolation = error, let first = pending.popFirst() {
            first.timer.cancel()
            first.promise.fail(error)
        }
        failAll(.connectionClosed)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        if case .open = state { state = .closed(error) }
        while let entry = pending.popFirst() {
            entry.timer.cancel()
            entry.promise.fail(error)
        }
    }
}
