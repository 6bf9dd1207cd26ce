import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import SluiceProxy

/// Sluice's response encoder on EmbeddedChannel, behind a real request decoder: the framing
/// it gives each response, and that each answer goes with the request it answers.
@Suite struct ClientResponseEncoderTests {
    private func channel(requests: String) throws -> (EmbeddedChannel, ClientResponseEncoder) {
        let channel = EmbeddedChannel()
        let encoder = ClientResponseEncoder()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        try channel.pipeline.syncOperations.addHandler(encoder)
        try channel.writeInbound(channel.allocator.buffer(string: requests))
        while try channel.readInbound(as: HTTPServerRequestPart.self) != nil {}
        return (channel, encoder)
    }

    private func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let data = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = data else { continue }
            text += String(buffer: buffer)
        }
        return text
    }

    private func respond(_ channel: EmbeddedChannel, _ status: HTTPResponseStatus = .ok, _ fields: HTTPHeaders = [:],
                         version: HTTPVersion = .http1_1, body: String? = nil, trailers: HTTPHeaders? = nil) throws {
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: status, headers: fields)))
        if let body { try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(string: body)))) }
        try channel.writeOutbound(HTTPServerResponsePart.end(trailers))
    }

    @Test func aBodyWithoutLengthIsChunkedWithItsTrailers() throws {
        let (channel, _) = try channel(requests: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        try respond(channel, .ok, ["x-a": "1"], body: "hello", trailers: ["x-sum": "9"])
        #expect(try written(channel) == "HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-sum: 9\r\n\r\n")
    }

    @Test func aContentLengthWinsOverTransferEncoding() throws {
        let (channel, _) = try channel(requests: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        try respond(channel, .ok, ["content-length": "2", "transfer-encoding": "chunked"], body: "ok")
        #expect(try written(channel) == "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
    }

    @Test func anHTTP10BodyWithoutLengthIsNotChunked() throws {
        let (channel, _) = try channel(requests: "GET / HTTP/1.0\r\n\r\n")
        try respond(channel, version: .http1_0, body: "until close")
        #expect(try written(channel) == "HTTP/1.0 200 OK\r\n\r\nuntil close")
    }

    @Test func noContentAndNotModifiedLoseTheirFramingFields() throws {
        let (channel, _) = try channel(requests: "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
        try respond(channel, .noContent, ["content-length": "0"])
        try respond(channel, .notModified, ["etag": "\"v\"", "transfer-encoding": "chunked"])
        #expect(try written(channel) == "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\netag: \"v\"\r\n\r\n")
    }

    @Test func theAnswerToHeadHasItsFieldsButNoBodyAndTheNextIsWhole() throws {
        let (channel, _) = try channel(requests: "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        let refused = channel.eventLoop.makePromise(of: Void.self)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(string: "no"))), promise: refused)
        #expect(throws: NIOHTTPResponseEncoderError.responseBodyNotAllowed) { try refused.futureResult.wait() }
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        try respond(channel, body: "yes")
        #expect(try written(channel)
            == "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nyes\r\n0\r\n\r\n")
    }

    @Test func aContinueDoesNotAnswerTheRequest() throws {
        let (channel, _) = try channel(requests: "HEAD / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n")
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .continue)))
        try respond(channel, .ok, ["content-length": "5"])
        #expect(try written(channel) == "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
    }

    @Test func aConnectAnswerHasNoFramingFields() throws {
        let (channel, _) = try channel(requests: "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n")
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "0"])))
        #expect(try written(channel) == "HTTP/1.1 200 OK\r\n\r\n")
    }

    @Test func bytesWrittenAsAWholeAnswerTheOldestRequest() throws {
        let (channel, encoder) = try channel(requests: "GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(encoder.writeEncoded(head: channel.allocator.buffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"),
                                     body: channel.allocator.buffer(string: "hi")))
        // The HEAD is next: its answer is framed, and has no body.
        try respond(channel, .ok, ["x-b": "2"])
        #expect(try written(channel)
            == "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\nx-b: 2\r\ntransfer-encoding: chunked\r\n\r\n")
    }
}
