import Atomics
import NIOCore
import NIOPosix
import SluiceConfig
import Testing
@testable import SluiceProxy

/// Backpressure, observed from outside: when one side stops reading, the other side is
/// stopped too, so that what is in flight is bounded by socket buffers, not by the body size.
/// The bound (64 MiB of a 512 MiB body) is loose against loopback's socket buffers (a few MiB
/// each) and tight against a proxy that buffers.
@Suite struct BackpressureTests {
    static let bodySize = 512 * 1024 * 1024
    static let bound = 64 * 1024 * 1024

    @Test func aClientThatStopsReadingStopsTheBackend() async throws {
        try await withProxy { proxy, backend in
            let channel = try await ClientBootstrap(group: testGroup)
                .channelOption(.autoRead, value: false)
                .connect(host: "127.0.0.1", port: proxy.port).get()
            try await channel.writeAndFlush(channel.allocator.buffer(string: "GET /stream?bytes=\(Self.bodySize) HTTP/1.1\r\nHost: t\r\n\r\n"))
            // Nothing is read on the client side; the backend keeps writing while it can.
            #expect(await eventually { backend.streamedBytes > 1024 * 1024 })
            try await Task.sleep(nanoseconds: 1_500_000_000)
            let sent = backend.streamedBytes
            #expect(sent < Self.bound, "backend wrote \(sent) bytes to a client that read none")
            try? await channel.close()
        }
    }

    @Test func aClientThatNeverReadsIsCutAfterClientSend() async throws {
        try await withProxy(configure: { $0.timeouts.clientSend = .milliseconds(500) }) { proxy, backend in
            let channel = try await ClientBootstrap(group: testGroup)
                .channelOption(.autoRead, value: false)
                .connect(host: "127.0.0.1", port: proxy.port).get()
            try await channel.writeAndFlush(channel.allocator.buffer(string: "GET /stream?bytes=\(Self.bodySize) HTTP/1.1\r\nHost: t\r\n\r\n"))
            // Slow-read defence: the exchange ends, logged with its cause, and the backend is let go.
            #expect(await eventually { proxy.accessLog.all.contains { $0.contains("\"error\":\"client stopped reading the response (client_send)\"") } })
            // Generous: the backend shares the tests' event loops with the gigabyte transfers.
            #expect(await eventually(within: 30) { backend.connectionsOpen == 0 })
            try? await channel.close()
        }
    }

    @Test func aBackendThatStopsReadingStopsTheClient() async throws {
        try await withProxy(configure: { $0.limits.maxBodyBytes = 0 }) { proxy, backend in
            let channel = try await ClientBootstrap(group: testGroup).connect(host: "127.0.0.1", port: proxy.port).get()
            try await channel.writeAndFlush(channel.allocator.buffer(string: "POST /hold HTTP/1.1\r\nHost: t\r\nContent-Length: \(Self.bodySize)\r\n\r\n"))
            let accepted = ManagedAtomic(0)
            var chunk = channel.allocator.buffer(capacity: 64 * 1024)
            chunk.writeRepeatingByte(0x61, count: 64 * 1024)
            let piece = chunk
            try await channel.eventLoop.submit {
                for _ in 0..<(Self.bodySize / piece.readableBytes) {
                    channel.write(piece).whenSuccess { accepted.wrappingIncrement(by: piece.readableBytes, ordering: .relaxed) }
                }
                channel.flush()
            }.get()
            #expect(await eventually { accepted.load(ordering: .relaxed) > 1024 * 1024 })
            try await Task.sleep(nanoseconds: 1_500_000_000)
            let written = accepted.load(ordering: .relaxed)
            #expect(written < Self.bound, "the client could write \(written) bytes towards a backend that read none")
            try? await channel.close()
        }
    }
}
