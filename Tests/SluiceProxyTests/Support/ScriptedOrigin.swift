import Atomics
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 origin on 127.0.0.1 whose answers the test sets per path: status, fields
/// and body, so that the cache sees exactly the Cache-Control, ETag or Vary under test.
/// It answers a matching `If-None-Match` with 304 when the answer has an ETag, and records
/// every request head it receives.
final class ScriptedOrigin: Sendable {
    struct Answer: Sendable {
        var status: HTTPResponseStatus = .ok
        var fields: [(String, String)] = []
        var body = ""
        /// Send only this many body bytes after a head announcing all of them, then close.
        var cutAfter: Int?
        /// Close the connection without answering.
        var reset = false
        /// Send the body chunked, in two parts, with no Content-Length.
        var chunked = false
    }

    let channel: any Channel
    private let answers = NIOLockedValueBox<[String: Answer]>([:])
    private let heads = NIOLockedValueBox<[HTTPRequestHead]>([])
    /// While closed, answers wait for `open()` (how collapsing tests hold the first fetch).
    private let gate = NIOLockedValueBox<[@Sendable () -> Void]?>(nil)

    var port: Int { channel.localAddress!.port! }
    var address: String { "127.0.0.1:\(port)" }
    var requests: [HTTPRequestHead] { heads.withLockedValue { $0 } }
    func requests(to path: String) -> [HTTPRequestHead] { requests.filter { $0.uri == path } }

    private init(channel: any Channel) { self.channel = channel }

    static func start(group: any EventLoopGroup) async throws -> ScriptedOrigin {
        let box = NIOLockedValueBox<ScriptedOrigin?>(nil)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let origin = box.withLockedValue({ $0 }) else { return channel.close(promise: nil) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(OriginHandler(origin: origin))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let origin = ScriptedOrigin(channel: channel)
        box.withLockedValue { $0 = origin }
        return origin
    }

    func set(_ path: String, _ answer: Answer) { answers.withLockedValue { $0[path] = answer } }

    func set(_ path: String, status: HTTPResponseStatus = .ok, _ fields: [(String, String)], body: String) {
        set(path, Answer(status: status, fields: fields, body: body))
    }

    /// Holds every answer from now until `open()`.
    func close() { gate.withLockedValue { $0 = $0 ?? [] } }

    func open() {
        let held = gate.withLockedValue { held in defer { held = nil }; return held ?? [] }
        for answer in held { answer() }
    }

    func stop() async { try? await channel.close() }

    fileprivate func answer(for head: HTTPRequestHead) -> Answer {
        heads.withLockedValue { $0.append(head) }
        let path = String(head.uri.prefix { $0 != "?" })
        return answers.withLockedValue { $0[head.uri] ?? $0[path] } ?? Answer(status: .notFound, body: "no answer set")
    }

    fileprivate func whenOpen(_ work: @escaping @Sendable () -> Void) {
        let now = gate.withLockedValue { held -> Bool in
            guard held != nil else { return true }
            held!.append(work)
            return false
        }
        if now { work() }
    }
}

private final class OriginHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let origin: ScriptedOrigin
    private var head: HTTPRequestHead?

    init(origin: ScriptedOrigin) { self.origin = origin }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            let answer = origin.answer(for: head)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            origin.whenOpen {
                loop.execute {
                    let (handler, context) = bound.value
                    handler.respond(answer, to: head, context: context)
                }
            }
        }
    }

    private func respond(_ answer: ScriptedOrigin.Answer, to head: HTTPRequestHead, context: ChannelHandlerContext) {
        if answer.reset { return context.close(promise: nil) }
        var headers = HTTPHeaders(answer.fields)
        let etag = headers.first(name: "etag")
        if let etag, let asked = head.headers.first(name: "if-none-match"), asked == etag {
            headers.remove(name: "content-length")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .notModified, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let body = head.method == .HEAD ? "" : answer.body
        if answer.chunked {
            headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers))), promise: nil)
            let half = body.utf8.count / 2
            for part in [String(body.utf8.prefix(half))!, String(body.utf8.dropFirst(half))!] where !part.isEmpty {
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: part)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        headers.replaceOrAdd(name: "Content-Length", value: String(answer.body.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers))), promise: nil)
        if let cut = answer.cutAfter {
            let part = String(body.utf8.prefix(cut))!
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: part)))))
                .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        if !body.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
