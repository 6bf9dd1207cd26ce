import Logging
import NIOCore

/// Client-side connection timers, below the HTTP codec so that it sees raw bytes:
/// - `client_header`: from accept, or from the first byte of a keep-alive request, until the
///   request head is complete; a slow (slowloris) client gets 408 and is closed;
/// - `client_idle`: a keep-alive connection with no request at all is closed quietly;
/// - `client_body`: a request body that stops arriving; `onBodyTimeout` lets the proxy
///   handler answer 408 through the codec, since a response may be under way.
/// `ProxyHandler`, in the same pipeline, tells it when a head arrived and a response ended.
/// It also parks the request decoder of a connection idle for `client_park` (DecoderParking).
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
    private let bodyTimeout: TimeAmount
    private var bodyPending = false
    /// Set by ProxyHandler: what to do when `client_body` runs out.
    var onBodyTimeout: () -> Void = {}
    private let logger: Logger
    private var state = State.awaitingHead
    private var discarding = false
    /// Also carries ProxyHandler's upstream deadline (its second slot).
    private(set) var timer: DeadlineTimer?
    private var context: ChannelHandlerContext?
    /// Set by ClientConnection on HTTP/1.1 when `client_park` is not 0.
    var parking: DecoderParking?
    /// The idle timer runs to `client_park` first; then the rest of `client_idle`.
    private var parkDue = false

    /// Its loop's timers, or nil for a heap of its own (handler tests).
    private let timers: LoopTimers?

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount, bodyTimeout: TimeAmount = .seconds(60), logger: Logger,
         timers: LoopTimers? = nil) {
        self.timers = timers
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.bodyTimeout = bodyTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let timer = DeadlineTimer(timers: timers ?? LoopTimers(eventLoop: context.eventLoop),
                                  step: min(headerTimeout, idleTimeout, bodyTimeout))
        // Unowned, not weak: a weak reference gives the handler a side table, which makes
        // every retain and release of it slower; the closure goes in handlerRemoved.
        timer.onExpiry = { [unowned self] in self.expired() }
        self.timer = timer
        if context.channel.isActive { timer.set(after: headerTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if case .awaitingHead = state, timer?.isSet == false { timer?.set(after: headerTimeout) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancelFirst()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancelFirst()
        timer?.onExpiry = {}
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if discarding { return }
        if case .closing = state { return }
        if case .idle = state {
            state = .awaitingHead
            timer?.set(after: headerTimeout)
        }
        guard parking != nil else { return context.fireChannelRead(data) }
        if parking?.decoder == nil {
            do {
                try parking?.unpark(context.pipeline.syncOperations, after: self)
            } catch {
                logger.error("could not restore the request decoder", metadata: ["error": "\(error)"])
                return context.close(promise: nil)
            }
        }
        parking?.willRead(unwrapInboundIn(data))
        context.fireChannelRead(data)
        parking?.didRead()
    }

    /// A complete request head arrived. While its body comes in, `client_body` bounds each
    /// gap; otherwise no client timer runs while Sluice serves it.
    func requestHeadReceived(expectingBody: Bool = false) {
        state = .inRequest
        bodyPending = expectingBody
        if expectingBody { timer?.set(after: bodyTimeout) } else { timer?.clear() }
    }

    /// Part of the request body arrived.
    func requestBodyProgressed() {
        if bodyPending { timer?.set(after: bodyTimeout) }
    }

    /// The request body is complete.
    func requestBodyFinished() {
        guard bodyPending else { return }
        bodyPending = false
        if case .inRequest = state { timer?.clear() }
    }

    /// The request parser has failed: later bytes can only be discarded.
    func discardInput() {
        discarding = true
    }

    /// A last response is being flushed before close: give it `client_idle` at most.
    func closing() {
        state = .closing
        bodyPending = false
        timer?.set(after: idleTimeout)
    }

    /// The response is complete and the connection stays open for another request.
    func responseCompleted() {
        state = .idle
        bodyPending = false
        if parking?.atRest == true, let after = parking?.after, after < idleTimeout {
            parkDue = true
            timer?.set(after: after)
        } else {
            parkDue = false
            timer?.set(after: idleTimeout)
        }
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
        case .idle where parkDue:
            parkDue = false
            _ = parking?.park(context.pipeline.syncOperations)
            timer?.set(after: idleTimeout - (parking?.after ?? .zero))
        case .idle, .closing:
            context.close(promise: nil)
        case .inRequest:
            if bodyPending {
                bodyPending = false
                onBodyTimeout()
            }
        }
    }
}
