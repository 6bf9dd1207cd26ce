import NIOCore
import NIOHTTP1
import NIOPosix

/// A tiny origin for the demo: `/headers` shows the request as received, `/echo` returns the
/// body, anything else says which backend answered.
enum DemoBackend {
    static func start(name: String, group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(name: name))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let name: String
        private var head: HTTPRequestHead?
        private var body: ByteBuffer?

        init(name: String) { self.name = name }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = context.channel.allocator.buffer(capacity: 0)
            case .body(var chunk):
                body?.writeBuffer(&chunk)
            case .end:
                guard let head else { return }
                respond(context, head)
                self.head = nil
            }
        }

        private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
            var text: String
            if head.uri.hasPrefix("/headers") {
                text = "\(head.method) \(head.uri) HTTP/\(head.version.major).\(head.version.minor)\n"
                for (field, value) in head.headers { text += "\(field): \(value)\n" }
            } else if head.uri.hasPrefix("/echo") {
                text = body.map { String(buffer: $0) } ?? ""
            } else {
                text = "hello from \(name): \(head.method) \(head.uri)\n"
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/plain")
            headers.add(name: "Content-Length", value: String(text.utf8.count))
            headers.add(name: "X-Backend", value: name)
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
            let keepAlive = head.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }
}
