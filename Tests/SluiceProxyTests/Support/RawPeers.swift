import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SluiceTestSupport

/// A TCP server that answers whatever it is sent with fixed bytes, for backends that break
/// HTTP (garbage responses) on purpose.
enum RawBackend {
    /// With `staleAfterFirst`, the first request on each connection is answered and the
    /// connection kept; the next one is met with a close, as from a backend whose keep-alive
    /// timeout fired just as the request arrived.
    static func start(reply: String, staleAfterFirst: Bool = false, group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyHandler(reply: reply, staleAfterFirst: staleAfterFirst))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    private final class ReplyHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let reply: String
        let staleAfterFirst: Bool
        var replied = false
        init(reply: String, staleAfterFirst: Bool) {
            self.reply = reply
            self.staleAfterFirst = staleAfterFirst
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !replied else {
                if staleAfterFirst { context.close(promise: nil) }
                return
            }
            replied = true
            let staleAfterFirst = self.staleAfterFirst
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: reply))).assumeIsolated().whenComplete { _ in
                if !staleAfterFirst { context.close(promise: nil) }
            }
        }
    }
}

/// A client that writes exact bytes and collects every byte until the server closes or the
/// deadline passes: how the smuggling and timeout tests see precisely what went over the wire.
enum RawClient {
    struct Result {
        var text: String
        /// True when the server closed the connection before the deadline.
        var closedByServer: Bool
    }

    static func exchange(
        port: Int,
        sending chunks: [String],
        pauseBetween: TimeAmount = .zero,
        deadline: TimeAmount = .seconds(10),
        group: any EventLoopGroup
    ) async throws -> Result {
        let (channel, collector) = try await open(port: port, group: group)
        for (index, chunk) in chunks.enumerated() {
            if index > 0, pauseBetween > .zero { try await Task.sleep(nanoseconds: UInt64(pauseBetween.nanoseconds)) }
            try? await channel.writeAndFlush(channel.allocator.buffer(string: chunk))
        }
        let closed = await collector.waitForClose(channel: channel, deadline: deadline)
        return Result(text: collector.text, closedByServer: closed)
    }

    /// A connection whose every received byte lands in the collector, for tests that write
    /// and read as they go.
    static func open(port: Int, group: any EventLoopGroup) async throws -> (any Channel, Collector) {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CollectHandler(collector: collector))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return (channel, collector)
    }

    final class Collector: Sendable {
        private let state = NIOLockedValueBox((bytes: [UInt8](), closed: false))
        var text: String { String(decoding: state.withLockedValue { $0.bytes }, as: UTF8.self) }
        func append(_ buffer: ByteBuffer) { state.withLockedValue { $0.bytes += buffer.readableBytesView } }
        func markClosed() { state.withLockedValue { $0.closed = true } }
        var isClosed: Bool { state.withLockedValue { $0.closed } }

        func waitForClose(channel: any Channel, deadline: TimeAmount) async -> Bool {
            let end = NIODeadline.now() + deadline
            while NIODeadline.now() < end {
                if isClosed { return true }
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
            // A loaded machine may wake this task only after the deadline: look once more.
            if isClosed { return true }
            try? await channel.close()
            return false
        }
    }

    private final class CollectHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let collector: Collector
        init(collector: Collector) { self.collector = collector }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { collector.append(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { collector.markClosed() }
    }
}

/// Runs curl (a real, independent HTTP client) and returns what it printed.
enum Curl {
    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs curl on a plain thread and waits for it without holding one of the (few)
    /// cooperative threads: a blocking wait there stalls every other test's tasks.
    static func run(_ arguments: [String], timeoutSeconds: Int = 120) async throws -> Output {
        try await offPool { try runBlocking(arguments, timeoutSeconds: timeoutSeconds) }
    }

    private static func runBlocking(_ arguments: [String], timeoutSeconds: Int) throws -> Output {
        let process = try Subprocess.launch("/usr/bin/env", ["curl", "-sS", "--max-time", String(timeoutSeconds)] + arguments)
        // curl -sS writes little to stderr, so reading the pipes one after the other is safe.
        let outData = process.stdout!.readDataToEndOfFile()
        let errData = process.stderr!.readDataToEndOfFile()
        let status = process.waitUntilExit() ?? -1
        return Output(status: status, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// `curl -i` output split into status code, lower-cased headers and body.
    static func parse(_ text: String) -> (status: Int, headers: [String: String], body: String) {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        // With 100-continue there may be several heads; the last one is the final response.
        var blocks = normalized.components(separatedBy: "\n\n")
        var head = blocks.removeFirst()
        while head.hasPrefix("HTTP/1.1 100"), !blocks.isEmpty { head = blocks.removeFirst() }
        let lines = head.split(separator: "\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return (status, headers, blocks.joined(separator: "\n\n"))
    }
}
