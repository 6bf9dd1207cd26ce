import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import SluiceConfig

/// One active check of one backend: a TCP connect, or an HTTP request on a connection of its
/// own (never a pooled one, so a check measures what a new request would meet). Completes
/// once with the verdict and why.
enum HealthProbe {
    struct Verdict {
        var passed: Bool
        var reason: String
    }

    /// With `tls`, an HTTP check is made over HTTPS, and with `http2` over HTTP/2, as requests are.
    static func run(_ check: HealthCheckConfig, backend: BackendConfig, tls: UpstreamTLS? = nil, http2: Bool = false, on eventLoop: any EventLoop,
                    _ completion: @escaping (Verdict) -> Void) {
        var finished = false
        var channel: (any Channel)?
        let finish: (Verdict) -> Void = { verdict in
            guard !finished else { return }
            finished = true
            channel?.close(promise: nil)
            completion(verdict)
        }
        let timeout = TimeAmount(check.timeout)
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { finish(Verdict(passed: false, reason: "timed out after \(check.timeout)")) }
        let collector = ProbeResponse(limit: 64 * 1024)
        collector.onEnd = { head, body in
            timer.cancel()
            finish(judge(check, head: head, body: body))
        }
        collector.onClose = {
            timer.cancel()
            finish(Verdict(passed: false, reason: "connection closed before a complete response"))
        }
        // A TCP check only connects; an HTTP one over TLS reports a failed handshake as such.
        let handshake = check.kind == .http ? tls.map { _ in eventLoop.makePromise(of: Void.self) } : nil
        handshake?.futureResult.assumeIsolated().whenFailure { error in
            timer.cancel()
            finish(Verdict(passed: false, reason: "TLS handshake failed: \(error)"))
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard check.kind == .http else { return }
                    // Writes wait in the TLS handler until its handshake is done.
                    if let tls, let handshake {
                        try channel.pipeline.syncOperations.addHandlers(tls.handlers(for: backend, handshake: handshake))
                    }
                    if http2 {
                        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                            mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()) { $0.close() }
                        return
                    }
                    try channel.pipeline.syncOperations.addHandlers([
                        HTTPRequestEncoder(),
                        ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)),
                    ])
                }
            }
        let connected = (try? SocketAddress(ipAddress: backend.host, port: backend.port)).map { bootstrap.connect(to: $0) }
            ?? bootstrap.connect(host: backend.host, port: backend.port)
        connected.assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                timer.cancel()
                handshake?.succeed(())  // nothing to report from it: the connect failed
                finish(Verdict(passed: false, reason: "connect failed: \(error)"))
            case .success(let connectedChannel):
                channel = connectedChannel
                if finished { return connectedChannel.close(promise: nil) }
                guard check.kind == .http else {
                    timer.cancel()
                    return finish(Verdict(passed: true, reason: "connected"))
                }
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: check.host ?? backend.address)
                headers.add(name: "User-Agent", value: "sluice-health-check")
                if !http2 { headers.add(name: "Connection", value: "close") }
                let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: check.method), uri: check.path, headers: headers)
                let send: (any Channel) -> Void = { target in
                    do {
                        try target.pipeline.syncOperations.addHandler(collector)
                    } catch {
                        timer.cancel()
                        return finish(Verdict(passed: false, reason: "\(error)"))
                    }
                    target.write(HTTPClientRequestPart.head(head), promise: nil)
                    target.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                }
                guard http2 else { return send(connectedChannel) }
                // One stream on the connection; closing the connection at the verdict ends it too.
                let scheme: HTTP2FramePayloadToHTTP1ClientCodec.HTTPProtocol = tls == nil ? .http : .https
                let stream = (try? connectedChannel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer())
                    .map { multiplexer in
                        multiplexer.createStreamChannel { stream in
                            stream.eventLoop.makeCompletedFuture {
                                try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: scheme))
                            }
                        }
                    } ?? eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
                stream.assumeIsolated().whenComplete { result in
                    switch result {
                    case .success(let stream): send(stream)
                    case .failure(let error):
                        timer.cancel()
                        finish(Verdict(passed: false, reason: "no HTTP/2 stream: \(error)"))
                    }
                }
            }
        }
    }

    static func judge(_ check: HealthCheckConfig, head: HTTPResponseHead, body: ByteBuffer) -> Verdict {
        let status = Int(head.status.code)
        guard check.expectStatus.contains(status) else {
            return Verdict(passed: false, reason: "status \(status), expected \(check.expectStatus.lowerBound)-\(check.expectStatus.upperBound)")
        }
        if let needle = check.bodyContains, !String(buffer: body).contains(needle) {
            return Verdict(passed: false, reason: "body does not contain \"\(needle)\"")
        }
        return Verdict(passed: true, reason: "status \(status)")
    }
}

/// Collects one response head and up to `limit` body bytes (enough for `body_contains`).
private final class ProbeResponse: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    let limit: Int
    var onEnd: ((HTTPResponseHead, ByteBuffer) -> Void)?
    var onClose: (() -> Void)?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    init(limit: Int) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body(var part):
            if body.readableBytes < limit { body.writeBuffer(&part) }
        case .end:
            if let head { onEnd?(head, body) }
            onEnd = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose?()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
