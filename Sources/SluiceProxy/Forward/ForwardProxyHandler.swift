import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceConfig

/// A forward-proxy listener's handler, in place of `ProxyHandler`: each request is checked
/// (client, credentials, destination, resolved address), then
/// - `CONNECT host:port` gets `200 Connection Established` and a byte tunnel to the destination;
/// - an absolute-form `http://` request goes to the destination on a connection of its own, in
///   origin-form without hop-by-hop and proxy fields and with `Connection: close`, and the
///   response comes back byte for byte (the client connection then closes with it).
/// Refusals (400, 403, 407, 502, 504) close the connection.
final class ForwardProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let policy: ForwardPolicy
    private let runtime: ProxyRuntime
    private let peer: ClientPeer
    private let clientTimeouts: ClientTimeoutHandler
    private var context: ChannelHandlerContext?
    private var busy = false
    /// Request parts that came while the destination was being reached.
    private var pending: [HTTPServerRequestPart] = []
    private var outbound: (any Channel)?
    private var chunked = false
    private var request: (head: HTTPRequestHead, destination: ForwardPolicy.Destination, started: NIODeadline)?
    private var bytesIn = 0
    private var readsHeld = false
    private var holding = false

    init(config: ForwardProxyConfig, runtime: ProxyRuntime, peer: ClientPeer, clientTimeouts: ClientTimeoutHandler) {
        policy = ForwardPolicy(config: config)
        self.runtime = runtime
        self.peer = peer
        self.clientTimeouts = clientTimeouts
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func read(context: ChannelHandlerContext) {
        if holding { readsHeld = true } else { context.read() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        outbound?.close(promise: nil)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head(let head) = part, !busy { return start(head, context: context) }
        guard let outbound, request?.destination.path != nil else { return pending.append(part) }
        send(part, to: outbound)
    }

    private func start(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        busy = true
        clientTimeouts.requestHeadReceived(expectingBody: head.headers.contains(name: "content-length")
            || head.headers.contains(name: "transfer-encoding"))
        guard policy.admits(client: peer.address) else {
            return refuse(head, .init(status: .forbidden, reason: "client \(peer.ip) may not use this proxy"), nil)
        }
        if let refusal = policy.authenticate(head) { return refuse(head, refusal, nil) }
        let destination: ForwardPolicy.Destination
        switch ForwardPolicy.destination(of: head) {
        case .success(let named): destination = named
        case .failure(let refusal): return refuse(head, refusal, nil)
        }
        if let refusal = policy.allows(destination) { return refuse(head, refusal, destination) }
        request = (head, destination, .now())
        holding = true  // nothing more from the client until the destination is reached
        let loop = context.eventLoop
        let host = destination.host, port = destination.port
        // getaddrinfo blocks: off the event loop. The address checked is the one connected to,
        // so a name cannot resolve to a public address for the check and a private one after.
        NIOThreadPool.singleton.runIfActive(eventLoop: loop) {
            try SocketAddress.makeAddressResolvingHost(host, port: port)
        }.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .failure(let error):
                refuse(head, .init(status: .badGateway, reason: "cannot resolve \(host): \(error)"), destination)
            case .success(let address):
                guard let bytes = address.ipAddress.flatMap(CIDR.parseAddress) else {
                    return refuse(head, .init(status: .badGateway, reason: "cannot resolve \(host)"), destination)
                }
                if let refusal = policy.allows(address: bytes, of: host) { return refuse(head, refusal, destination) }
                connect(to: address, head, destination)
            }
        }
    }

    private func connect(to address: SocketAddress, _ head: HTTPRequestHead, _ destination: ForwardPolicy.Destination) {
        guard let context else { return }
        let timeout = TimeAmount(runtime.snapshot.config.timeouts.upstreamConnect)
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: false)  // the tunnel starts reading when it is set up
            .connect(to: address)
            .assumeIsolated().whenComplete { [self] result in
                switch result {
                case .failure(let error):
                    if case ChannelError.connectTimeout = error {
                        refuse(head, .init(status: .gatewayTimeout, reason: "connect timeout to \(destination.authority)"), destination)
                    } else {
                        refuse(head, .init(status: .badGateway, reason: "cannot connect to \(destination.authority): \(error)"), destination)
                    }
                case .success(let channel):
                    guard self.context != nil else { return channel.close(promise: nil) }
                    outbound = channel
                    connected(channel, head, destination)
                }
            }
    }

    private func connected(_ channel: any Channel, _ head: HTTPRequestHead, _ destination: ForwardPolicy.Destination) {
        guard let context else { return }
        if destination.path == nil {
            var fields = HTTPHeaders()
            fields.add(name: "Content-Length", value: "0")  // as nginx and Squid: no body follows a 2xx to CONNECT
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: fields))), promise: nil)
            return startTunnel(channel, status: 200)
        }
        var upstream = head
        upstream.uri = destination.path!
        upstream.version = .http1_1
        var fields = HTTPHeaders()
        let named = head.headers["connection"].flatMap { $0.split(separator: ",").map { $0.trimmingSpaces().lowercased() } }
        for (name, value) in head.headers where !HeaderRewriting.isHopByHop(name) && !named.contains(name.lowercased()) {
            fields.add(name: name, value: value)
        }
        if !fields.contains(name: "host") { fields.add(name: "Host", value: destination.port == 80 ? destination.host : destination.authority) }
        fields.add(name: "Connection", value: "close")
        chunked = head.headers["transfer-encoding"].contains { $0.lowercased().contains("chunked") }
        if chunked { fields.add(name: "Transfer-Encoding", value: "chunked") }
        upstream.headers = fields
        channel.write(Self.serialize(upstream), promise: nil)
        let queued = pending
        pending = []
        for part in queued { send(part, to: channel) }
        channel.flush()
        holding = false
        if readsHeld { readsHeld = false; context.read() }
    }

    /// A request body part, framed as the client framed it; the end starts the response relay.
    private func send(_ part: HTTPServerRequestPart, to channel: any Channel) {
        switch part {
        case .head: break  // a pipelined request: the connection ends with this response
        case .body(let body):
            bytesIn += body.readableBytes
            guard chunked else { return channel.writeAndFlush(body, promise: nil) }
            var framed = channel.allocator.buffer(capacity: body.readableBytes + 16)
            framed.writeString(String(body.readableBytes, radix: 16) + "\r\n")
            framed.writeImmutableBuffer(body)
            framed.writeString("\r\n")
            channel.writeAndFlush(framed, promise: nil)
        case .end:
            if chunked { channel.writeAndFlush(channel.allocator.buffer(string: "0\r\n\r\n"), promise: nil) }
            startTunnel(channel, status: nil)
        }
    }

    /// The client connection stops speaking HTTP: from here bytes go both ways as they come.
    private func startTunnel(_ channel: any Channel, status: Int?) {
        guard let context, let request else { return }
        let tunnel = Tunnel(eventLoop: context.eventLoop, idleTimeout: TimeAmount(runtime.snapshot.config.timeouts.tunnelIdle))
        var firstLine: String?
        tunnel.upstream.onFirstRead = { bytes in firstLine = bytes.getString(at: bytes.readerIndex, length: min(12, bytes.readableBytes)) }
        let generation = runtime.generation
        let (peer, bytesIn) = (self.peer, self.bytesIn)
        tunnel.onEnd = { tunnel, reason in
            // The origin's status, read off its status line, for plain requests.
            let status = status ?? firstLine.flatMap { Int($0.dropFirst(9).prefix(3)) } ?? 0
            Self.log(generation, peer: peer, request.head, status: status, destination: request.destination, started: request.started,
                     bytesIn: bytesIn + tunnel.bytesFromClient, bytesOut: tunnel.bytesFromUpstream, error: reason)
        }
        do {
            let client = context.pipeline.syncOperations
            try client.addHandler(tunnel.client)
            try channel.pipeline.syncOperations.addHandler(tunnel.upstream)
            try client.removeClientHTTPHandlers(timeouts: clientTimeouts, last: self)
        } catch {
            tunnel.end("cannot start the tunnel: \(error)")
            return
        }
        _ = channel.setOption(.autoRead, value: true)
        tunnel.start()
    }

    private func refuse(_ head: HTTPRequestHead, _ refusal: ForwardPolicy.Refusal, _ destination: ForwardPolicy.Destination?) {
        outbound?.close(promise: nil)
        guard let context else { return }
        let text = refusal.reason + "\n"
        var fields: HTTPHeaders = ["Content-Type": "text/plain; charset=utf-8", "Content-Length": String(text.utf8.count), "Connection": "close"]
        if refusal.status == .proxyAuthenticationRequired { fields.add(name: "Proxy-Authenticate", value: "Basic realm=\"sluice\"") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: refusal.status, headers: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        Self.log(runtime.generation, peer: peer, head, status: Int(refusal.status.code), destination: destination, started: request?.started ?? .now(),
                 bytesIn: 0, bytesOut: text.utf8.count, error: refusal.reason)
    }

    private static func log(_ generation: ProxyGeneration, peer: ClientPeer, _ head: HTTPRequestHead, status: Int,
                            destination: ForwardPolicy.Destination?, started: NIODeadline, bytesIn: Int, bytesOut: Int, error: String?) {
        let accessLog = generation.accessLog
        guard accessLog.config.enabled else { return }
        accessLog.record(AccessLogEntry(
            client: peer.ip, method: head.method.rawValue, path: head.uri, status: status, bytesIn: bytesIn, bytesOut: bytesOut,
            durationNanos: UInt64(max(0, (NIODeadline.now() - started).nanoseconds)), upstream: destination?.authority, upstreamNanos: nil,
            requestID: "-", route: "forward_proxy", error: error))
    }

    private static func serialize(_ head: HTTPRequestHead) -> ByteBuffer {
        var text = "\(head.method.rawValue) \(head.uri) HTTP/1.1\r\n"
        for (name, value) in head.headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        return ByteBuffer(string: text)
    }
}
