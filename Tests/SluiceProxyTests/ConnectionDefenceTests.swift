import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceConfig
import Testing
@testable import SluiceProxy

/// Accept-time defences (access lists, accept rate per peer; the connection caps are in
/// LimitTests), the
/// per-connection request cap, and slow clients not starving a normal one.
@Suite struct ConnectionDefenceTests {
    @Test func deniedPeersAreClosedBeforeAnyByte() async throws {
        try await withProxy(configure: { $0.access.deny = [CIDR("127.0.0.0/8")!] }) { proxy, backend in
            let result = try await RawClient.exchange(port: proxy.port, sending: ["GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"],
                                                      deadline: .seconds(10), group: testGroup)
            #expect(result.closedByServer && result.text.isEmpty)
            #expect(backend.requestCount == 0)
        }
    }

    @Test func anAllowListAdmitsOnlyItsNetworks() async throws {
        try await withProxy(configure: { $0.access.allow = [CIDR("10.0.0.0/8")!] }) { proxy, _ in
            let result = try await RawClient.exchange(port: proxy.port, sending: ["GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"],
                                                      deadline: .seconds(10), group: testGroup)
            #expect(result.closedByServer && result.text.isEmpty)
        }
        try await withProxy(configure: { $0.access.allow = [CIDR("127.0.0.1")!]; $0.access.deny = [CIDR("10.0.0.0/8")!] }) { proxy, _ in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await client.get("/hello")?.status == 200)
            await client.close()
        }
    }

    @Test func acceptRatePerPeerIsLimited() async throws {
        // One new connection per second. The first is served; of five more opened at once
        // some are refused (all of them, unless the connects spread over seconds on a loaded
        // machine). client_header is long so that only a refusal can close them.
        try await withProxy(configure: { $0.limits.acceptRatePerIP = 1; $0.timeouts.clientHeader = .seconds(120) }) { proxy, _ in
            let first = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await first.get("/hello")?.status == 200)
            var more: [HTTPTestClient] = []
            for _ in 0..<5 { more.append(try await HTTPTestClient.connect(port: proxy.port, group: testGroup)) }
            #expect(await eventually { more.contains(where: \.isClosed) })
            #expect(try await first.get("/hello")?.status == 200)
            await first.close()
            for client in more { await client.close() }
        }
    }

    @Test func theLastAllowedRequestOfAConnectionClosesIt() async throws {
        try await withProxy(configure: { $0.limits.maxRequestsPerConnection = 2 }) { proxy, _ in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let first = try #require(try await client.get("/hello"))
            #expect(first.status == 200 && first.head.headers.first(name: "Connection") != "close")
            let second = try #require(try await client.get("/hello"))
            #expect(second.status == 200 && second.head.headers.first(name: "Connection") == "close")
            #expect(await eventually { client.isClosed })
        }
    }

    @Test func hundredsOfSlowClientsDoNotStarveANormalOne() async throws {
        try await withProxy(configure: { $0.timeouts.clientHeader = .seconds(8) }) { proxy, _ in
            // Each sends half a request head and then nothing (slowloris).
            var slow: [any Channel] = []
            for _ in 0..<300 {
                let channel = try await ClientBootstrap(group: testGroup).connect(host: "127.0.0.1", port: proxy.port).get()
                // On a loaded machine an early one may already have met client_header: fine.
                try? await channel.writeAndFlush(channel.allocator.buffer(string: "GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: "))
                slow.append(channel)
            }
            #expect(slow.filter(\.isActive).count > 200, "most slow clients are still connected when the normal one asks")
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let response = try #require(try await client.get("/hello"))
            #expect(response.status == 200)
            await client.close()
            // client_header ends every slow one.
            let closed = await eventually(within: 40) { slow.allSatisfy { !$0.isActive } }
            #expect(closed)
            for channel in slow { try? await channel.close() }
        }
    }
}
