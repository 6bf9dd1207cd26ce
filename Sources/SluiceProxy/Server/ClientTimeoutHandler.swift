import Logging
import NIOCore

/// Client-side connection timers, below the HTTP codec so that it sees raw bytes:
/// - `client_header`: from accept, or from the first byte of a keep-alive request, until the
///   request head is complete; a slow (slowloris) client gets 408 and is closed;
/// - `client_idle`: a keep-alive connection with no request at all is closed quietly.
/// `ProxyHandler`, in the same pipeline, tells it when a head arrived and a response ended.
final class ClientTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    /// Inbound only, so that response bytes do not pass through it; the 408 it writes itself.
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHead
        case inRequest
        case idle
        /// Sluice is closing after a last response; bounded so that a client that never reads
        /// it cannot hold the connection.
        case closing
    }

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let logger: Logger
    private var state = State.awaitingHead
    private var discarding = false
    private var timer: DeadlineTimer?
    private var context: ChannelHandlerContext?

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount, logger: Logger) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let timer = DeadlineTimer(eventLoop: context.eventLoop, step: min(headerTimeout, idleTimeout))
        timer.onExpiry = { [weak self] in self?.expired() }
        self.timer = timer
        if context.channel.isActive { timer.set(after: headerTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if case .awaitingHead = state, timer?.isSet == false { timer?.set(after: headerTimeout) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if discarding { return }
        if case .closing = state { return }
        if case .idle = state {
            state = .awaitingHead
            timer?.set(after: headerTimeout)
        }
        context.fireChannelRead(data)
    }

    /// A complete request head arrived: no client timer runs while Sluice serves it.
    func requestHeadReceived() {
        state = .inRequest
        timer?.clear()
    }

    /// The request parser has failed: later bytes can only be discarded.
    func discardInput() {
        discarding = true
    }

    /// A last response is being flushed before close: give it `client_idle` at most.
    func closing() {
        state = .closing
        timer?.set(after: idleTimeout)
    }

    /// The response is complete and the connection stays open for another request.
    func responseCompleted() {
        state = .idle
        timer?.set(after: idleTimeout)
    }

    private func expired() {
        guard let context else { return }
        switch state {
        case .awaitingHead:
            logger.info("client header timeout", metadata: ["client": "\(context.channel.remoteAddress?.ipAddress ?? "-")"])
            var buffer = context.channel.allocator.buffer(capacity: 128)
            buffer.writeString("HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 22\r\nConnection: close\r\n\r\nclient header timeout\n")
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .idle, .closing:
            context.close(promise: nil)
        case .inRequest:
            break
        }
    }
}
