import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// HTTP/1.1 details a proxy must get right beyond plain GETs.
@Suite struct ProtocolTests {
    @Test func headResponseHasNoBodyAndKeepsTheConnection() async throws {
        try await withProxy { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let responses = try await client.send([.init(method: .HEAD, uri: "/hello"), .init(uri: "/hello")])
            #expect(responses.map(\.status) == [200, 200])
            #expect(responses[0].body.isEmpty)
            #expect(responses[0].head.headers["content-length"] == ["18"])
            #expect(responses[1].body == "hello from backend")
            await client.close()
        }
    }

    @Test func expectContinueIsAnsweredAndTheBodyFlows() async throws {
        try await withProxy { proxy, backend in
            let result = try await RawClient.exchange(
                port: proxy.port,
                sending: ["POST /sink HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", "abcd"],
                pauseBetween: .milliseconds(100),
                group: testGroup
            )
            #expect(result.text.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"))
            #expect(result.text.hasSuffix("\r\n\r\n4"))
            // Sluice consumed the expectation; the backend saw a plain request.
            #expect(backend.lastRequestHead?.headers["expect"].isEmpty == true)
        }
    }

    @Test func http10ClientGetsAClosedConnectionForAnUnsizedBody() async throws {
        try await withProxy { proxy, backend in
            let result = try await RawClient.exchange(port: proxy.port, sending: ["GET /stream?bytes=10&chunked=1 HTTP/1.0\r\nHost: t\r\n\r\n"], group: testGroup)
            #expect(result.text.hasPrefix("HTTP/1.0 200 OK\r\n"))
            #expect(!result.text.lowercased().contains("transfer-encoding"))
            #expect(result.text.hasSuffix("\r\n\r\nxxxxxxxxxx"))
            #expect(result.closedByServer)
        }
    }

    @Test func connectionCloseFromTheClientIsHonoured() async throws {
        try await withProxy { proxy, backend in
            let result = try await RawClient.exchange(
                port: proxy.port,
                sending: ["GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"],
                group: testGroup
            )
            #expect(result.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(result.text.lowercased().contains("connection: close\r\n"))
            #expect(result.closedByServer)
            // The upstream connection is still pooled: a client's close is not the backend's.
            #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
            #expect(backend.connectionsAccepted == 1)
        }
    }

    @Test func clientLeavingMidResponseIsLogged499AndUpstreamIsClosed() async throws {
        try await withProxy { proxy, backend in
            _ = try await RawClient.exchange(port: proxy.port, sending: ["GET /stall HTTP/1.1\r\nHost: t\r\n\r\n"], deadline: .milliseconds(300), group: testGroup)
            #expect(await eventually { proxy.accessLog.all.contains { $0.contains("\"status\":499") } })
            #expect(await eventually { backend.connectionsOpen == 0 })
        }
    }

    @Test func upgradeRequestsAreServedAndThenTheConnectionCloses() async throws {
        try await withProxy { proxy, backend in
            let result = try await RawClient.exchange(
                port: proxy.port,
                sending: ["GET /headers HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"],
                group: testGroup
            )
            #expect(result.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(!result.text.contains("upgrade: h2c"))
            #expect(result.text.lowercased().contains("connection: close\r\n"))
            #expect(result.closedByServer)
        }
    }

    @Test func earlyAnswerReachesAClientStillUploading() async throws {
        try await withProxy(configure: { $0.limits.maxBodyBytes = 1000 }) { proxy, backend in
            // The head declares far more than the limit and the body keeps coming after the 413.
            let chunk = String(repeating: "z", count: 64 * 1024)
            let result = try await RawClient.exchange(
                port: proxy.port,
                sending: ["POST /sink HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n"] + Array(repeating: chunk, count: 40),
                group: testGroup
            )
            #expect(result.text.hasPrefix("HTTP/1.1 413 Payload Too Large\r\n"))
            #expect(result.text.hasSuffix("request body larger than 1000 bytes\n"))
            #expect(backend.requestCount == 0)
        }
    }

    @Test func connectIsRefused() async throws {
        try await withProxy { proxy, backend in
            let result = try await RawClient.exchange(port: proxy.port, sending: ["CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"], group: testGroup)
            #expect(result.text.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
            #expect(result.closedByServer)
            #expect(backend.requestCount == 0)
        }
    }

    @Test func localAnswersHonourConnectionClose() async throws {
        let proxy = try await ProxyHarness.start(backends: [])
        let result = try await RawClient.exchange(port: proxy.port, sending: ["GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"], group: testGroup)
        #expect(result.text.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(result.closedByServer)
        await proxy.stop()
    }

    /// RFC 9112 §3.2.2: an absolute-form target's authority wins over Host, and the backend
    /// gets the origin-form target with that Host.
    @Test func anAbsoluteFormTargetIsRoutedByItsAuthorityAndSentInOriginForm() async throws {
        let web = try await TestBackend.start(name: "web", group: testGroup)
        let api = try await TestBackend.start(name: "api", group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [web.address]) { config in
            config.clusters.append(ClusterConfig(name: "api", backends: [ProxyHarness.backend(api.address)]))
            config.routes.insert(RouteConfig(name: "api", match: RouteMatch(host: "api.test"), cluster: "api"), at: 0)
        }
        let out = try await Curl.run(["-H", "Host: www.test", "--request-target", "http://API.test:80/headers?x=1", "\(proxy.url)/"])
        #expect(out.stdout.hasPrefix("GET /headers?x=1 HTTP/1.1\n"), "\(out.stdout)")
        #expect(out.stdout.contains("host: API.test:80\n"))
        #expect(web.requestCount == 0)
        #expect(RequestValidation.originForm("http://a.test") == .rewritten(authority: "a.test", target: "/"))
        #expect(RequestValidation.originForm("HTTPS://a.test?q#f") == .rewritten(authority: "a.test", target: "/?q"))
        #expect(RequestValidation.originForm("http:///x") == .invalid)
        #expect(RequestValidation.originForm("/plain") == .unchanged)
        #expect(RequestValidation.originForm("*") == .unchanged)
        await proxy.stop()
        await web.stop()
        await api.stop()
    }

    @Test func routingUsesTheNormalisedPathAndForwardsTheOriginal() async throws {
        let publicSite = try await TestBackend.start(name: "public", group: testGroup)
        let admin = try await TestBackend.start(name: "admin", group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [publicSite.address]) { config in
            config.clusters.append(ClusterConfig(name: "admin", backends: [ProxyHarness.backend(admin.address)]))
            config.routes = [
                RouteConfig(name: "public", match: RouteMatch(pathPrefix: "/public/"), cluster: "main"),
                RouteConfig(name: "admin", match: RouteMatch(pathPrefix: "/admin"), cluster: "admin"),
            ]
        }
        for path in ["/public/../admin/x", "/public/%2e%2e/admin/x", "/public//..//admin/x"] {
            let out = try await Curl.run(["--path-as-is", "\(proxy.url)\(path)"])
            #expect(out.stdout == "hello from admin", "\(path)")
            #expect(admin.lastRequestHead?.uri == path)
        }
        #expect(publicSite.requestCount == 0)
        let climb = Curl.parse(try await Curl.run(["-i", "--path-as-is", "\(proxy.url)/../etc/passwd"]).stdout)
        #expect(climb.status == 400)
        await proxy.stop()
        await publicSite.stop()
        await admin.stop()
    }

    @Test func routesChooseClustersByHostPathAndMethod() async throws {
        let web = try await TestBackend.start(name: "web", group: testGroup)
        let api = try await TestBackend.start(name: "api", group: testGroup)
        let writes = try await TestBackend.start(name: "writes", group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [web.address]) { config in
            config.clusters += [
                ClusterConfig(name: "api", backends: [ProxyHarness.backend(api.address)]),
                ClusterConfig(name: "writes", backends: [ProxyHarness.backend(writes.address)]),
            ]
            config.routes = [
                RouteConfig(name: "web", cluster: "main"),
                RouteConfig(name: "api", match: RouteMatch(host: "api.test", pathPrefix: "/v1"), cluster: "api"),
                RouteConfig(name: "writes", match: RouteMatch(host: "api.test", pathPrefix: "/v1", method: "POST"), cluster: "writes"),
            ]
        }
        func who(_ args: [String]) async throws -> String { try await Curl.run(args).stdout }
        #expect(try await who(["\(proxy.url)/v1/x"]) == "hello from web")
        #expect(try await who(["-H", "Host: API.test:80", "\(proxy.url)/v1/x"]) == "hello from api")
        #expect(try await who(["-H", "Host: api.test", "-X", "POST", "\(proxy.url)/v1/x"]) == "hello from writes")
        #expect(try await who(["-H", "Host: api.test", "\(proxy.url)/v2"]) == "hello from web")
        await proxy.stop()
        for b in [web, api, writes] { await b.stop() }
    }
}
