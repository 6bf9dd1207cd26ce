import NIOCore
import NIOHTTP1
import NIOHTTP2
import SluiceConfig

/// What a client connection's pipeline is built from once its protocol is known: HTTP/1.1
/// (the codec, the client timers, the proxy handler) or HTTP/2 (one proxy handler per stream,
/// each stream seen as an HTTP/1-style request, so routes and phases are the same).
struct ClientConnection: Sendable {
    let runtime: ProxyRuntime
    let snapshot: Snapshot
    let settings: ListenerSettings
    let peer: ClientPeer

    private func clientTimeouts(_ channel: any Channel) -> ClientTimeoutHandler {
        ClientTimeoutHandler(
            headerTimeout: TimeAmount(snapshot.config.timeouts.clientHeader),
            idleTimeout: TimeAmount(snapshot.config.timeouts.clientIdle),
            bodyTimeout: TimeAmount(snapshot.config.timeouts.clientBody),
            logger: runtime.logger,
            timers: runtime.loopState(for: channel.eventLoop).timers
        )
    }

    func configureHTTP1(_ channel: any Channel) throws {
        let limits = snapshot.config.limits
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
        // One over the limit so that RequestValidation answers the count itself with a clear reason.
        decoderLimits.maxHeaderFieldCount = limits.maxHeaderCount + 1
        let sync = channel.pipeline.syncOperations
        let timeouts = clientTimeouts(channel)
        try sync.addHandler(timeouts)
        // No outbound header validation: every forwarded field was parsed by llhttp and every
        // field Sluice adds is validated when the config is loaded. Sluice's own encoder, after
        // the decoder so that it sees each request's method.
        let encoder = ClientResponseEncoder()
        let decoder = DecoderParking.makeDecoder(decoderLimits)
        try sync.addHandler(decoder)
        try sync.addHandler(encoder)
        let park = snapshot.config.timeouts.clientPark
        if park > .zero {
            timeouts.parking = DecoderParking(after: TimeAmount(park), limits: decoderLimits, encoder: encoder, decoder: decoder)
        }
        if let hsts = settings.hsts { try sync.addHandler(HSTSHandler(value: hsts)) }
        if let forward = settings.forwardProxy {
            var untrusted = peer
            untrusted.isTrusted = false
            return try sync.addHandler(ForwardProxyHandler(config: forward, runtime: runtime, peer: untrusted, clientTimeouts: timeouts))
        }
        let proxy = ProxyHandler(runtime: runtime, loop: runtime.loopState(for: channel.eventLoop), peer: peer, clientTimeouts: timeouts)
        // Bytes written by the encoder pass no handler after it: not with HSTS, which adds a field.
        if settings.hsts == nil { proxy.responseEncoder = encoder }
        try sync.addHandler(proxy)
    }

    func configureHTTP2(_ channel: any Channel) throws {
        let http2 = settings.http2
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: http2.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: http2.maxHeaderListSize),
        ]
        var stream = NIOHTTP2Handler.StreamConfiguration()
        // Rapid reset (CVE-2023-44487): past this many resets in the window, GOAWAY and close.
        stream.streamResetFrameRateLimit.maximumCount = http2.maxResets
        stream.streamResetFrameRateLimit.windowLength = TimeAmount(http2.resetWindow)
        let (runtime, peer, hsts) = (self.runtime, self.peer, settings.hsts)
        let events = HTTP2ConnectionEvents()
        let registry = NIOLoopBound(events, eventLoop: channel.eventLoop)
        // The connection's lifecycle: GOAWAY after `client_idle` without a stream, and a
        // graceful GOAWAY when Sluice drains (in-flight streams finish, then it closes).
        let manager = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(maxIdleTime: TimeAmount(snapshot.config.timeouts.clientIdle), maxAge: nil, maxGraceTime: nil, keepalive: nil))
        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: connection, streamConfiguration: stream, streamDelegate: manager.http2StreamDelegate
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                registry.value.track(stream)
                let sync = stream.pipeline.syncOperations
                try sync.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                if let hsts { try sync.addHandler(HSTSHandler(value: hsts)) }
                // The connection's timers do not apply to a stream: the handler is given one
                // that is in no pipeline, so its calls do nothing. HTTP/2 has its own PING/GOAWAY.
                try sync.addHandler(ProxyHandler(runtime: runtime, loop: runtime.loopState(for: stream.eventLoop), peer: peer,
                                                 clientTimeouts: self.clientTimeouts(stream)))
            }
        }
        try channel.pipeline.syncOperations.addHandlers([manager, events])
        // Added after the connection became active (ALPN or the h2c preface decided): its timers
        // start on channelActive, which is given to it alone, not to the handlers before it.
        if channel.isActive { manager.channelActive(context: try channel.pipeline.syncOperations.context(handler: manager)) }
    }
}

/// Sluice's connection-wide events on an HTTP/2 connection. A reload that wants clients to
/// reconnect is a graceful GOAWAY (as a drain is). A reload that retired routes, and a drain
/// that ran out of time, reach every open stream's ProxyHandler, as they reach an HTTP/1.1
/// connection's; after the latter the connection closes.
final class HTTP2ConnectionEvents: ChannelInboundHandler {
    typealias InboundIn = Any

    private var streams: [ObjectIdentifier: any Channel] = [:]

    func track(_ stream: any Channel) {
        let key = ObjectIdentifier(stream)
        streams[key] = stream
        stream.closeFuture.assumeIsolated().whenComplete { [weak self] _ in self?.streams[key] = nil }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ReconnectRequested {
            // From the head, so that the connection manager before this handler sees it.
            context.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        } else if let retired = event as? RoutesRetired {
            for stream in streams.values { stream.pipeline.fireUserInboundEventTriggered(retired) }
        } else if event is DrainTimedOut {
            // Each stream answers its cause (503, drain timeout) before the connection goes.
            for stream in streams.values { stream.pipeline.fireUserInboundEventTriggered(DrainTimedOut()) }
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// On a plain listener with `http2.enabled`: a connection that opens with the HTTP/2 preface
/// is h2c (prior knowledge), any other is HTTP/1.1. Decides on the first bytes, then hands
/// them on to the pipeline it built and leaves.
final class H2CPrefaceSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    private let decide: (Bool, any Channel) throws -> Void
    private var buffered: ByteBuffer?

    init(_ decide: @escaping (Bool, any Channel) throws -> Void) { self.decide = decide }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var earlier = buffered {
            earlier.writeBuffer(&bytes)
            bytes = earlier
        }
        let seen = min(bytes.readableBytes, Self.preface.count)
        let matches = bytes.readableBytesView.prefix(seen).elementsEqual(Self.preface.prefix(seen))
        if matches, seen < Self.preface.count {
            buffered = bytes
            return
        }
        buffered = nil
        do {
            try decide(matches, context.channel)
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(wrapInboundOut(bytes))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
