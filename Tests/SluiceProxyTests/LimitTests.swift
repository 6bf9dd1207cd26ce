import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// Every limit answers with its own status, and a request within the limit passes.
@Suite struct LimitTests {
    @Test func headerBytesOverLimitIs431() async throws {
        try await withProxy(configure: { $0.limits.maxHeaderBytes = 2048 }) { proxy, backend in
            let big = String(repeating: "a", count: 3000)
            let refused = Curl.parse(try await Curl.run(["-i", "-H", "X-Big: \(big)", "\(proxy.url)/hello"]).stdout)
            #expect(refused.status == 431)
            let fine = try await Curl.run(["-H", "X-Small: \(String(repeating: "a", count: 1000))", "\(proxy.url)/hello"])
            #expect(fine.stdout == "hello from backend")
            #expect(backend.requestCount == 1)
        }
    }

    @Test func headerCountOverLimitIs431() async throws {
        try await withProxy(configure: { $0.limits.maxHeaderCount = 10 }) { proxy, backend in
            let many = (0..<12).flatMap { ["-H", "X-H\($0): v"] }
            let refused = Curl.parse(try await Curl.run(["-i"] + many + ["\(proxy.url)/hello"]).stdout)
            #expect(refused.status == 431)
            #expect(["more than 10 header fields\n", "request header fields too large\n"].contains(refused.body))
            let fine = try await Curl.run(Array(many.prefix(8)) + ["\(proxy.url)/hello"])
            #expect(fine.stdout == "hello from backend")
        }
    }

    @Test func uriOverLimitIs414() async throws {
        try await withProxy(configure: { $0.limits.maxURIBytes = 100 }) { proxy, backend in
            let refused = Curl.parse(try await Curl.run(["-i", "\(proxy.url)/\(String(repeating: "p", count: 200))"]).stdout)
            #expect(refused.status == 414)
            #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
        }
    }

    @Test func declaredBodyOverLimitIs413BeforeAnyUpstreamWork() async throws {
        try await withProxy(configure: { $0.routes[0].limits.maxBodyBytes = 1000 }) { proxy, backend in
            let file = try TemporaryFile(contents: String(repeating: "b", count: 2000))
            let refused = Curl.parse(try await Curl.run(["-i", "--data-binary", "@\(file.path)", "\(proxy.url)/sink"]).stdout)
            #expect(refused.status == 413)
            #expect(refused.body == "request body larger than 1000 bytes\n")
            #expect(backend.requestCount == 0)
        }
    }

    @Test func streamedChunkedBodyOverLimitIs413() async throws {
        try await withProxy(configure: { $0.limits.maxBodyBytes = 1000 }) { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let chunks = Array(repeating: String(repeating: "c", count: 300), count: 5)
            let response = try await client.send([.init(method: .POST, uri: "/sink", body: chunks)]).first
            #expect(response?.status == 413)
            #expect(await eventually { client.isClosed })
            let within = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await within.send([.init(method: .POST, uri: "/sink", body: ["small"])]).first?.body == "5")
            await within.close()
        }
    }

    /// `max_connections` (all peers) and `max_connections_per_ip` (here every client is 127.0.0.1)
    /// close the connection past the cap at once, and a freed slot can be used again.
    @Test(arguments: [false, true]) func connectionsOverLimitAreClosedAtOnce(perPeer: Bool) async throws {
        try await withProxy(configure: { if perPeer { $0.limits.maxConnectionsPerIP = 2 } else { $0.limits.maxConnections = 2 } }) { proxy, _ in
            let open = { perPeer ? proxy.server.runtime.generation.connectionGuard.openConnections(from: "127.0.0.1") : proxy.server.connectionCount }
            // One at a time: accepted connections start on different event loops, so two opened
            // together may be counted in either order.
            let first = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await first.get("/hello")?.status == 200)
            let second = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await second.get("/hello")?.status == 200)
            let third = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(await eventually { third.isClosed })
            await first.close()
            #expect(await eventually { open() == 1 })
            let fourth = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await fourth.get("/hello")?.status == 200)
            await second.close()
            await fourth.close()
        }
    }
}

/// The client-side timers: slowloris gets 408, idle keep-alive connections are closed.
@Suite struct ClientTimeoutTests {
    @Test func slowHeadGets408AndIsClosed() async throws {
        try await withProxy(configure: { $0.timeouts.clientHeader = .milliseconds(300) }) { proxy, backend in
            // Bytes keep trickling in, but the head never completes within the timeout.
            let result = try await RawClient.exchange(
                port: proxy.port,
                sending: ["GET /hello HTTP/1.1\r\n", "Host: t\r\n", "X-A: 1\r\n", "X-B: 2\r\n", "X-C: 3\r\n"],
                pauseBetween: .milliseconds(150),
                group: testGroup
            )
            #expect(result.text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
            #expect(result.closedByServer)
            #expect(backend.requestCount == 0)
        }
    }

    @Test func stalledRequestBodyGets408() async throws {
        try await withProxy(configure: { $0.timeouts.clientBody = .milliseconds(300) }) { proxy, backend in
            // Ten of the hundred declared bytes, then nothing.
            let result = try await RawClient.exchange(
                port: proxy.port,
                sending: ["POST /sink HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789"],
                group: testGroup
            )
            #expect(result.text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
            #expect(result.text.hasSuffix("client body timeout\n"))
            #expect(result.closedByServer)
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        try await withProxy(configure: { $0.timeouts.clientIdle = .milliseconds(300) }) { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await client.get("/hello")?.status == 200)
            #expect(await eventually { client.isClosed })
        }
    }
}
