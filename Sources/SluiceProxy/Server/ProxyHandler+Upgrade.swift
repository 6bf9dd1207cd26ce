import NIOCore
import NIOHTTP1
import SluiceBalancing
import SluiceConfig

extension ProxyHandler: RemovableChannelHandler {}
extension ClientTimeoutHandler: RemovableChannelHandler {}
extension UpstreamHandler: RemovableChannelHandler {}

/// WebSocket (RFC 6455 §4) through Sluice: the Upgrade request goes to the backend on a
/// connection of its own, and once the backend answers 101 both connections stop speaking
/// HTTP and become the two ends of a `Tunnel`.
extension ProxyHandler {
    /// "websocket" when `head` asks to switch to it (GET, `Connection: upgrade`, `Upgrade:
    /// websocket`, no body); nil for anything else, which is forwarded as a plain request.
    static func webSocketUpgrade(_ head: HTTPRequestHead, framing: BodyFraming) -> String? {
        guard head.method == .GET, framing == .none, head.version == .http1_1,
              head.headers["connection"].contains(where: { value in
                  value.split(separator: ",").contains { $0.trimmingSpaces().lowercased() == "upgrade" }
              }),
              head.headers["upgrade"].contains(where: { value in
                  value.split(separator: ",").contains { $0.trimmingSpaces().lowercased() == "websocket" }
              })
        else { return nil }
        return "websocket"
    }

    /// The backend switched protocols: the 101 goes to the client. The relay starts at the end
    /// of the 101 (`startTunnel`), once the decoder has nothing more of HTTP to hand on.
    func relaySwitchingProtocols(_ head: HTTPResponseHead, _ exchange: Exchange) {
        guard let context else { return }
        upstreamTimer?.clear()
        exchange.cancelHedge()
        let now = NIODeadline.now()
        let latency = exchange.tryLatency(at: now)
        exchange.upstreamHeadNanos = latency
        exchange.cluster.record(.success, backend: exchange.backendIndex, latencyNanoseconds: latency, now: now.uptimeNanoseconds)
        var clientHead = HeaderRewriting.clientHead(from: head, requestVersion: exchange.version, keepAlive: true,
                                                    policy: exchange.headerPolicy, requestID: exchange.requestID,
                                                    limitFields: exchange.limitFields)
        // Hop-by-hop in general, but these two are what a 101 is about.
        clientHead.headers.replaceOrAdd(name: "Connection", value: "Upgrade")
        clientHead.headers.replaceOrAdd(name: "Upgrade", value: head.headers.first(name: "upgrade") ?? exchange.upgrade ?? "websocket")
        exchange.responseStarted = true
        exchange.switchedProtocols = true
        context.writeAndFlush(wrapOutboundOut(.head(clientHead)), promise: nil)
    }

    func startTunnel(_ exchange: Exchange) {
        guard let context, let connection = exchange.connection else { return }
        let tunnel = Tunnel(eventLoop: context.eventLoop, idleTimeout: TimeAmount(exchange.route.tunnelIdle))
        tunnel.onEnd = { [self] tunnel, reason in
            exchange.bytesIn += tunnel.bytesFromClient
            exchange.bytesOut += tunnel.bytesFromUpstream
            exchange.releaseInFlight()
            record(exchange, status: 101, error: reason)
        }
        exchange.streamTimer?.cancel()  // a tunnel is bounded by tunnel_idle instead
        self.exchange = nil
        connection.idleTimer?.cancel()
        connection.handler.delegate = nil
        do {
            let client = context.pipeline.syncOperations
            let upstream = connection.channel.pipeline.syncOperations
            try client.addHandler(tunnel.client)
            try upstream.addHandler(tunnel.upstream)
            // The HTTP handlers go; the decoders last, so that bytes they hold beyond the
            // HTTP message (a backend's first frames) reach the tunnel.
            upstream.removeHandler(connection.handler, promise: nil)
            upstream.removeHandler(try upstream.handler(type: HTTPRequestEncoder.self), promise: nil)
            upstream.removeHandler(try upstream.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self), promise: nil)
            try client.removeClientHTTPHandlers(timeouts: clientTimeouts, last: self)
        } catch {
            tunnel.end("cannot start the tunnel: \(error)")
            connection.close()
            context.close(promise: nil)
            return
        }
        tunnel.start()
    }
}
