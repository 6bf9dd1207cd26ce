import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import SluiceProxy

/// DecoderParking on EmbeddedChannel: the client pipeline's first three handlers as
/// ClientConnection builds them, and a collector for what the decoder produced.
@Suite struct DecoderParkingTests {
    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        var heads: [String] = []
        var ends = 0
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): heads.append(head.uri)
            case .body: break
            case .end: ends += 1
            }
        }
    }

    private struct Connection {
        let channel: EmbeddedChannel
        let timeouts: ClientTimeoutHandler
        let collector: Collector

        var decoderPresent: Bool {
            (try? channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)) != nil
        }

        func send(_ text: String) throws { try channel.writeInbound(channel.allocator.buffer(string: text)) }
        func advance(_ amount: TimeAmount) { channel.embeddedEventLoop.advanceTime(by: amount) }
    }

    private func connection(park: TimeAmount = .seconds(1), idle: TimeAmount = .seconds(60)) throws -> Connection {
        let channel = EmbeddedChannel()
        let timeouts = ClientTimeoutHandler(headerTimeout: .seconds(10), idleTimeout: idle,
                                            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let limits = NIOHTTPDecoderLimitConfiguration()
        let decoder = DecoderParking.makeDecoder(limits)
        let encoder = ClientResponseEncoder()
        let collector = Collector()
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(timeouts)
        try sync.addHandler(decoder)
        try sync.addHandler(encoder)
        try sync.addHandler(collector)
        timeouts.parking = DecoderParking(after: park, limits: limits, encoder: encoder, decoder: decoder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return Connection(channel: channel, timeouts: timeouts, collector: collector)
    }

    /// What ProxyHandler does around one request: its head arrived, its response ended.
    private func answer(_ connection: Connection) {
        connection.timeouts.requestHeadReceived()
        connection.timeouts.responseCompleted()
    }

    @Test func idleConnectionParksItsDecoderAndRestoresItForTheNextRequest() throws {
        let c = try connection()
        try c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        answer(c)
        c.advance(.milliseconds(999))
        #expect(c.decoderPresent)
        c.advance(.milliseconds(2))
        #expect(!c.decoderPresent)
        #expect(c.channel.isActive)

        try c.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.decoderPresent)
        #expect(c.collector.heads == ["/a", "/b"])
        #expect(c.collector.ends == 2)
        // The fresh decoder parses keep-alive requests as the first did, and parks again.
        answer(c)
        c.advance(.seconds(2))
        #expect(!c.decoderPresent)
    }

    @Test func aHeadSplitOverReadsStillParks() throws {
        let c = try connection()
        try c.send("GET /a HTTP/1.1\r\nHo")
        try c.send("st: x\r\n\r\n")
        answer(c)
        c.advance(.seconds(2))
        #expect(!c.decoderPresent)
        #expect(c.collector.heads == ["/a"])
    }

    @Test func aPipelinedPartialRequestKeepsTheDecoder() throws {
        let c = try connection()
        try c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo")
        answer(c)
        c.advance(.seconds(5))
        #expect(c.decoderPresent)
        try c.send("st: x\r\n\r\n")
        #expect(c.collector.heads == ["/a", "/b"])
    }

    @Test func twoPipelinedRequestsInOneReadKeepTheDecoder() throws {
        // Conservative: the rule cannot tell them from a request and a partial one.
        let c = try connection()
        try c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        answer(c)
        answer(c)
        c.advance(.seconds(5))
        #expect(c.decoderPresent)
        #expect(c.collector.heads == ["/a", "/b"])
    }

    @Test func aRequestWithABodyParksOnlyAfterARequestThatQualifies() throws {
        let c = try connection()
        try c.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        answer(c)
        c.advance(.seconds(5))
        #expect(c.decoderPresent)
        #expect(c.collector.ends == 1)
        try c.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        answer(c)
        c.advance(.seconds(2))
        #expect(!c.decoderPresent)
    }

    @Test func aParkedConnectionStillClosesAtTheIdleTimeout() throws {
        let c = try connection(park: .seconds(1), idle: .seconds(60))
        try c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        answer(c)
        c.advance(.seconds(2))
        #expect(!c.decoderPresent)
        c.advance(.seconds(57))
        #expect(c.channel.isActive)
        c.advance(.seconds(2))
        #expect(!c.channel.isActive)
    }

    @Test func aParkedConnectionStillGetsTheHeaderTimeout() throws {
        let c = try connection()
        try c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        answer(c)
        c.advance(.seconds(2))
        #expect(!c.decoderPresent)
        try c.send("GET /b HTTP/1.1\r\n")
        c.advance(.seconds(11))
        var text = ""
        while let buffer = try c.channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        #expect(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
    }
}
