import Logging
import NIOCore

/// What the proxy handler tells the timeout handler about a client connection's requests.
/// Sent as outbound user events, which travel from the proxy handler towards the socket.
enum ClientActivity: Sendable {
    case requestHeadReceived
    case responseCompleted
}

/// Client-side connection timers, below the HTTP codec so that it sees raw bytes:
/// - `client_header`: from accept, or from the first byte of a keep-alive request, until the
///   request head is complete; a slow (slowloris) client gets 408 and is closed;
/// - `client_idle`: a keep-alive connection with no request at all is closed quietly.
final class ClientTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHead
        case inRequest
        case idle
    }

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let logger: Logger
    private var state = State.awaitingHead
    private var timer: Scheduled<Void>?

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount, logger: Logger) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, headerTimeout, header: true) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if timer == nil { arm(context, headerTimeout, header: true) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .idle = state {
            state = .awaitingHead
            arm(context, headerTimeout, header: true)
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let activity = event as? ClientActivity else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch activity {
        case .requestHeadReceived:
            state = .inRequest
            timer?.cancel()
            timer = nil
        case .responseCompleted:
            state = .idle
            arm(context, idleTimeout, header: false)
        }
        promise?.succeed()
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount, header: Bool) {
        timer?.cancel()
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            self?.fire(loopContext.value, header: header)
        }
    }

    private func fire(_ context: ChannelHandlerContext, header: Bool) {
        timer = nil
        if header {
            guard case .awaitingHead = state else { return }
            logger.info("client header timeout", metadata: ["client": "\(context.channel.remoteAddress?.ipAddress ?? "-")"])
            var buffer = context.channel.allocator.buffer(capacity: 128)
            buffer.writeString("HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 22\r\nConnection: close\r\n\r\nclient header timeout\n")
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            guard case .idle = state else { return }
            context.close(promise: nil)
        }
    }
}
