import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import SluiceConfig
import Testing
@testable import SluiceProxy

/// Handlers on EmbeddedChannel: no sockets, and time moves only when the test says so.
@Suite struct ClientTimeoutHandlerTests {
    private func channel(header: TimeAmount = .seconds(10), idle: TimeAmount = .seconds(60)) throws -> (EmbeddedChannel, ClientTimeoutHandler) {
        let channel = EmbeddedChannel()
        let handler = ClientTimeoutHandler(headerTimeout: header, idleTimeout: idle, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, handler)
    }

    private func outbound(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func incompleteHeadAfterTimeoutGets408() throws {
        let (channel, _) = try channel(header: .seconds(10))
        try channel.writeInbound(channel.allocator.buffer(string: "GET / HTTP/1.1\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(try outbound(channel).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(!channel.isActive)
    }

    @Test func completeHeadCancelsTheHeaderTimer() throws {
        let (channel, handler) = try channel(header: .seconds(10))
        handler.requestHeadReceived()
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        #expect(try outbound(channel).isEmpty)
    }

    @Test func idleConnectionClosesQuietlyAfterIdleTimeout() throws {
        let (channel, handler) = try channel(header: .seconds(10), idle: .seconds(30))
        handler.requestHeadReceived()
        handler.responseCompleted()
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        #expect(try outbound(channel).isEmpty)
    }

    @Test func firstByteOfTheNextRequestSwitchesToTheHeaderTimer() throws {
        let (channel, handler) = try channel(header: .seconds(5), idle: .seconds(60))
        handler.requestHeadReceived()
        handler.responseCompleted()
        channel.embeddedEventLoop.advanceTime(by: .seconds(20))
        try channel.writeInbound(channel.allocator.buffer(string: "GET /slow"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        #expect(try outbound(channel).hasPrefix("HTTP/1.1 408"))
        #expect(!channel.isActive)
    }
}

/// The whole client pipeline Sluice builds, on an EmbeddedChannel: requests Sluice answers
/// itself never need an upstream.
@Suite struct ClientPipelineTests {
    private func pipeline(_ configure: (inout SluiceConfig) -> Void = { _ in }) throws -> EmbeddedChannel {
        var config = SluiceConfig(clusters: [ClusterConfig(name: "main")], routes: [RouteConfig(match: RouteMatch(pathPrefix: "/api"), cluster: "main")])
        configure(&config)
        let channel = EmbeddedChannel()
        let runtime = try ProxyRuntime(
            snapshot: Snapshot(config: config, source: "<test>"),
            eventLoops: [channel.embeddedEventLoop],
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            accessLogger: Logger(label: "test.access", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        try ProxyServer.initialize(channel, runtime: runtime)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    private func send(_ channel: EmbeddedChannel, _ text: String) throws -> String {
        try channel.writeInbound(channel.allocator.buffer(string: text))
        var out = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out += String(buffer: buffer) }
        return out
    }

    @Test func smugglingAttemptIs400AndCloses() throws {
        let channel = try pipeline()
        let out = try? send(channel, "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        #expect(out?.hasPrefix("HTTP/1.1 400 Bad Request\r\n") == true)
        #expect(!channel.isActive)
    }

    @Test func noRouteIs404AndTheConnectionServesTheNextRequest() throws {
        let channel = try pipeline()
        let first = try send(channel, "GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(first.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(first.hasSuffix("no route for this host and path\n"))
        #expect(channel.isActive)
        let second = try send(channel, "GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(second.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(second.contains("retry-after: 1\r\n") || second.contains("Retry-After: 1\r\n"))
    }

    @Test func declaredBodyOverTheLimitIs413() throws {
        let channel = try pipeline { $0.limits.maxBodyBytes = 10 }
        let out = try send(channel, "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n")
        #expect(out.hasPrefix("HTTP/1.1 413 Payload Too Large\r\n"))
    }

    @Test func uriOverTheLimitIs414() throws {
        let channel = try pipeline { $0.limits.maxURIBytes = 20 }
        let out = try send(channel, "GET /api/\(String(repeating: "x", count: 30)) HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(out.hasPrefix("HTTP/1.1 414 URI Too Long\r\n"))
    }
}

@Suite struct DeadlineTimerTests {
    @Test func firesOnceAtTheLatestDeadlineWithoutRescheduling() {
        let loop = EmbeddedEventLoop()
        let timer = DeadlineTimer(eventLoop: loop, step: .seconds(10))
        var fired = 0
        timer.onExpiry = { fired += 1 }
        timer.set(after: .seconds(10))
        loop.advanceTime(by: .seconds(5))
        timer.set(after: .seconds(10))  // moved to t=15
        loop.advanceTime(by: .seconds(9))
        #expect(fired == 0)
        loop.advanceTime(by: .seconds(2))
        #expect(fired == 1)
        loop.advanceTime(by: .seconds(60))
        #expect(fired == 1)
    }

    @Test func aSoonerDeadlineIsMetAndAClearedOneNeverFires() {
        let loop = EmbeddedEventLoop()
        let timer = DeadlineTimer(eventLoop: loop, step: .seconds(5))
        var fired = 0
        timer.onExpiry = { fired += 1 }
        timer.set(after: .seconds(60))
        timer.set(after: .seconds(2))
        loop.advanceTime(by: .seconds(3))
        #expect(fired == 1)
        timer.set(after: .seconds(1))
        timer.clear()
        loop.advanceTime(by: .seconds(120))
        #expect(fired == 1)
    }

    @Test func twoDeadlinesShareOneTaskAndEachFiresItsOwnCallback() {
        let loop = EmbeddedEventLoop()
        let timer = DeadlineTimer(eventLoop: loop, step: .seconds(60))
        var first = 0
        var second = 0
        timer.onExpiry = { first += 1 }
        timer.onSecondExpiry = { second += 1 }
        timer.set(after: .seconds(30))
        timer.setSecond(after: .seconds(5))
        loop.advanceTime(by: .seconds(6))
        #expect(first == 0 && second == 1)
        loop.advanceTime(by: .seconds(25))
        #expect(first == 1 && second == 1)
        // Ending one owner's deadline leaves the other's running.
        timer.set(after: .seconds(10))
        timer.setSecond(after: .seconds(20))
        timer.cancelFirst()
        loop.advanceTime(by: .seconds(21))
        #expect(first == 1 && second == 2)
        timer.setSecond(after: .seconds(5))
        timer.set(after: .seconds(10))
        timer.cancelSecond()
        loop.advanceTime(by: .seconds(11))
        #expect(first == 2 && second == 2)
    }

    @Test func aDeadlineSetFromTheOtherCallbackDoesNotHideAnEarlierOne() {
        let loop = EmbeddedEventLoop()
        let timer = DeadlineTimer(eventLoop: loop, step: .seconds(60))
        var second = 0
        timer.onExpiry = { timer.set(after: .seconds(50)) }
        timer.onSecondExpiry = { second += 1 }
        timer.set(after: .seconds(1))
        timer.setSecond(after: .seconds(3))
        loop.advanceTime(by: .seconds(2))
        #expect(second == 0)
        loop.advanceTime(by: .seconds(2))
        #expect(second == 1)
        timer.onExpiry = {}
    }

    /// A real loop runs every task due in one tick, even one that an earlier task of that tick
    /// cancelled: a timer whose owner cancelled and dropped it there must still be alive when
    /// its own task runs (as an unowned capture it was not, and the process trapped).
    @Test func aTimerDroppedByAnEarlierTaskOfTheSameTickIsNotReadAfterItIsGone() async throws {
        let loop = testGroup.next()
        let result = loop.makePromise(of: Bool.self)
        loop.execute {
            var owner: DeadlineTimer? = DeadlineTimer(eventLoop: loop, step: .milliseconds(20))
            var fired = false
            owner?.onExpiry = { fired = true }
            owner?.set(after: .milliseconds(20))
            loop.assumeIsolated().scheduleTask(in: .milliseconds(10)) {
                owner?.cancel()
                owner = nil
            }
            // Hold the loop past both deadlines, so that its next tick takes both tasks at once.
            usleep(60_000)
            loop.assumeIsolated().scheduleTask(in: .milliseconds(30)) { result.succeed(fired) }
        }
        #expect(try await result.futureResult.get() == false)
    }
}
