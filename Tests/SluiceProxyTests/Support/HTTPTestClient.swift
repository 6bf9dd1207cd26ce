import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The project's own NIO HTTP/1.1 client: one connection, requests written back to back
/// (pipelined when sent together), responses decoded with trailers.
final class HTTPTestClient: Sendable {
    struct Response: Sendable {
        var head: HTTPResponseHead
        var body: String
        var trailers: HTTPHeaders?
        var status: Int { Int(head.status.code) }
    }

    struct Request: Sendable {
        var method: HTTPMethod = .GET
        var uri: String
        var headers: HTTPHeaders = ["host": "test"]
        /// Body chunks; when present without a content-length header, sent chunked.
        var body: [String] = []
        var trailers: HTTPHeaders?
    }

    let channel: any Channel
    private let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    static func connect(port: Int, group: any EventLoopGroup) async throws -> HTTPTestClient {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(collector: collector))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return HTTPTestClient(channel: channel, collector: collector)
    }

    /// Writes all requests with one flush, then waits for as many responses (or a close).
    func send(_ requests: [Request], timeout: TimeAmount = .seconds(20)) async throws -> [Response] {
        let already = collector.responses.count
        for request in requests {
            var headers = request.headers
            if !request.body.isEmpty, !headers.contains(name: "content-length") {
                headers.add(name: "transfer-encoding", value: "chunked")
            }
            channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: request.method, uri: request.uri, headers: headers)), promise: nil)
            for chunk in request.body {
                channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(string: chunk))), promise: nil)
            }
            channel.write(HTTPClientRequestPart.end(request.trailers), promise: nil)
        }
        channel.flush()
        let end = NIODeadline.now() + timeout
        while collector.responses.count < already + requests.count, !collector.isClosed, NIODeadline.now() < end {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        return Array(collector.responses.dropFirst(already))
    }

    func get(_ uri: String, headers: HTTPHeaders = ["host": "test"]) async throws -> Response? {
        try await send([Request(uri: uri, headers: headers)]).first
    }

    var isClosed: Bool { collector.isClosed }

    func close() async { try? await channel.close() }

    final class Collector: Sendable {
        private let state = NIOLockedValueBox((responses: [Response](), closed: false))
        var responses: [Response] { state.withLockedValue { $0.responses } }
        var isClosed: Bool { state.withLockedValue { $0.closed } }
        func add(_ response: Response) { state.withLockedValue { $0.responses.append(response) } }
        func markClosed() { state.withLockedValue { $0.closed = true } }
    }

    private final class ResponseCollector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let collector: Collector
        private var head: HTTPResponseHead?
        private var body = ""
        init(collector: Collector) { self.collector = collector }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = ""
            case .body(let buffer):
                body += String(buffer: buffer)
            case .end(let trailers):
                if let head { collector.add(Response(head: head, body: body, trailers: trailers)) }
                head = nil
            }
        }

        func channelInactive(context: ChannelHandlerContext) { collector.markClosed() }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
