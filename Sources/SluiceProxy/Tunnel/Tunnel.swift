import NIOCore
import NIOHTTP1

/// An upgraded connection (WebSocket) relayed byte for byte between the client and the backend
/// once both sides agreed to switch protocols: each direction reads only while the other side
/// can take more (backpressure), and the tunnel ends when either side closes or when no byte
/// has moved for `idleTimeout`. Both channels are on one event loop, so nothing here locks.
final class Tunnel {
    let client: TunnelHalf
    let upstream: TunnelHalf
    private let idle: DeadlineTimer
    private let idleTimeout: TimeAmount
    private var ended = false
    /// Called once, with why the tunnel ended (nil: a side closed normally).
    var onEnd: ((Tunnel, String?) -> Void)?

    init(eventLoop: any EventLoop, idleTimeout: TimeAmount) {
        client = TunnelHalf()
        upstream = TunnelHalf()
        self.idleTimeout = idleTimeout
        idle = DeadlineTimer(eventLoop: eventLoop, step: idleTimeout)
        client.tunnel = self
        upstream.tunnel = self
        client.partner = upstream
        upstream.partner = client
        idle.onExpiry = { [weak self] in self?.end("tunnel idle timeout") }
    }

    /// Bytes the client sent through the tunnel, and the backend.
    var bytesFromClient: Int { client.bytesRead }
    var bytesFromUpstream: Int { upstream.bytesRead }

    /// Both halves are in their pipelines: start reading and the idle clock.
    func start() {
        idle.set(after: idleTimeout)
        client.startReading()
        upstream.startReading()
    }

    func activity() { idle.set(after: idleTimeout) }

    func end(_ reason: String?) {
        guard !ended else { return }
        ended = true
        idle.cancel()
        client.closeAfterFlush()
        upstream.closeAfterFlush()
        onEnd?(self, reason)
        onEnd = nil
        // The halves kept the tunnel alive; now it may go.
        client.tunnel = nil
        upstream.tunnel = nil
    }
}

/// One side of a `Tunnel`, last in its channel's pipeline.
final class TunnelHalf: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Strong: the pipelines hold the halves and the halves the tunnel, until it ends.
    var tunnel: Tunnel?
    weak var partner: TunnelHalf?
    private var context: ChannelHandlerContext?
    /// A read the channel asked for while the partner could not take more.
    private var readHeld = false
    private(set) var bytesRead = 0
    private var flushPending = false
    /// Sees the first bytes read (a forward proxy reads the origin's status line off them).
    var onFirstRead: ((ByteBuffer) -> Void)?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if bytesRead == 0, let onFirstRead {
            onFirstRead(bytes)
            self.onFirstRead = nil
        }
        bytesRead += bytes.readableBytes
        tunnel?.activity()
        partner?.write(bytes)
        // Bytes can come outside a read cycle (a removed HTTP decoder hands on what followed
        // the 101 a tick later), with no channelReadComplete after them: flush once the loop
        // is done with this turn, unless a read-complete flushes first.
        if !flushPending {
            flushPending = true
            context.eventLoop.assumeIsolated().execute { [self] in
                if flushPending { partner?.flush() }
                flushPending = false
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushPending = false
        partner?.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // This side can take more again: the other side may read.
        if context.channel.isWritable { partner?.resumeReading() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tunnel?.end(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        tunnel?.end("\(error)")
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A half-closed side (EOF) will send nothing more; WebSocket has its own close
        // handshake, so the tunnel ends rather than idling half open.
        if case ChannelEvent.inputClosed = event as? ChannelEvent ?? .outputClosed { tunnel?.end(nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if partner?.isWritable ?? true {
            context.read()
        } else {
            readHeld = true
        }
    }

    func startReading() { context?.read() }

    func resumeReading() {
        guard readHeld, let context else { return }
        readHeld = false
        context.read()
    }

    func write(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
    }

    func flush() { context?.flush() }

    func closeAfterFlush() {
        guard let context else { return }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// A client connection that became a tunnel stops speaking HTTP: its HTTP handlers go,
    /// `last` (the handler that made the tunnel) after them.
    func removeClientHTTPHandlers(timeouts: ClientTimeoutHandler, last: any RemovableChannelHandler) throws {
        if let hsts = try? handler(type: HSTSHandler.self) { removeHandler(hsts, promise: nil) }
        removeHandler(timeouts, promise: nil)
        removeHandler(try handler(type: ClientResponseEncoder.self), promise: nil)
        removeHandler(try handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self), promise: nil)
        removeHandler(last, promise: nil)
    }
}
