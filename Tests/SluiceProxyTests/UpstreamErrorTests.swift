import NIOCore
import SluiceConfig
import Testing
@testable import SluiceProxy

/// 502 (refused, reset, bad response), 503 (no backend), 504 (timeouts): each with a short
/// body naming the cause, an access-log entry and a log line.
@Suite struct UpstreamErrorTests {
    @Test func refusedConnectionIs502() async throws {
        let proxy = try await ProxyHarness.start(backends: ["127.0.0.1:\(closedPort())"])
        let out = Curl.parse(try await Curl.run(["-i", "\(proxy.url)/x"]).stdout)
        #expect(out.status == 502)
        #expect(out.body.hasPrefix("upstream connect failed to 127.0.0.1:"))
        #expect(proxy.errorLog.all.contains { $0.hasPrefix("upstream connect failed") })
        #expect(proxy.accessLog.all.contains { $0.contains("\"status\":502") && $0.contains("\"error\":\"upstream connect failed") })
        await proxy.stop()
    }

    @Test func connectTimeoutIs504() async throws {
        let blackhole = try Blackhole()
        let proxy = try await ProxyHarness.start(backends: ["127.0.0.1:\(blackhole.port)"]) { config in
            config.timeouts.upstreamConnect = .milliseconds(300)
        }
        let out = Curl.parse(try await Curl.run(["-i", "\(proxy.url)/x"]).stdout)
        #expect(out.status == 504)
        #expect(out.body == "upstream connect timeout to 127.0.0.1:\(blackhole.port)\n")
        await proxy.stop()
        withExtendedLifetime(blackhole) {}
    }

    @Test func responseHeaderTimeoutIs504() async throws {
        try await withProxy(configure: { config in
            // Only /slow has the short timeout: a loaded machine may take 300 ms for /hello too.
            var slow = RouteConfig(name: "slow", match: RouteMatch(pathPrefix: "/slow"), cluster: "main")
            slow.timeouts.upstreamHeader = .milliseconds(300)
            config.routes.insert(slow, at: 0)
            config.clusters[0].retries.maxRetries = 0  // a retry would be a third connection
        }) { proxy, backend in
            let out = Curl.parse(try await Curl.run(["-i", "\(proxy.url)/slow?ms=5000"]).stdout)
            #expect(out.status == 504)
            #expect(out.body.hasPrefix("upstream response header timeout"))
            // The connection that timed out is not reused: the next request gets a fresh one.
            #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
            // Each accept is counted on its connection's own event loop, which a loaded machine
            // may run late: the first connection can be counted after the second has answered.
            #expect(await eventually { backend.connectionsAccepted == 2 })
        }
    }

    @Test func upstreamIdleTimeoutCutsTheResponse() async throws {
        try await withProxy(configure: { config in
            config.timeouts.upstreamIdle = .milliseconds(300)
        }) { proxy, backend in
            let out = try await Curl.run(["-i", "\(proxy.url)/stall"])
            // The head and the first bytes went out; the rest never comes, so curl sees a short body.
            #expect(out.status == 18)
            #expect(out.stdout.hasPrefix("HTTP/1.1 200 OK"))
            #expect(out.stdout.hasSuffix("only a part"))
            #expect(proxy.accessLog.all.contains { $0.contains("\"error\":\"upstream idle timeout") })
        }
    }

    @Test func resetBeforeResponseIs502() async throws {
        try await withProxy { proxy, backend in
            let out = Curl.parse(try await Curl.run(["-i", "\(proxy.url)/reset"]).stdout)
            #expect(out.status == 502)
            #expect(out.body == "upstream \(backend.address) closed the connection\n")
        }
    }

    @Test func malformedResponseIs502() async throws {
        let raw = try await RawBackend.start(reply: "HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n", group: testGroup)
        let proxy = try await ProxyHarness.start(backends: ["127.0.0.1:\(raw.localAddress!.port!)"])
        let out = Curl.parse(try await Curl.run(["-i", "\(proxy.url)/x"]).stdout)
        #expect(out.status == 502)
        #expect(out.body.hasPrefix("invalid response from upstream"))
        await proxy.stop()
        try? await raw.close()
    }

    @Test func emptyClusterIs503WithRetryAfter() async throws {
        let proxy = try await ProxyHarness.start(backends: [])
        let out = Curl.parse(try await Curl.run(["-i", "\(proxy.url)/x"]).stdout)
        #expect(out.status == 503)
        #expect(out.headers["retry-after"] == "1")
        #expect(out.body == "no backend available in cluster main\n")
        await proxy.stop()
    }

    @Test func noRouteIs404AndKeepsTheConnection() async throws {
        try await withProxy(configure: { config in
            config.routes[0].match = RouteMatch(pathPrefix: "/api")
        }) { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let responses = try await client.send([.init(uri: "/other"), .init(uri: "/api/hello")])
            #expect(responses.map(\.status) == [404, 200])
            #expect(responses[0].body == "no route for this host and path\n")
            #expect(!client.isClosed)
            await client.close()
        }
    }
}
