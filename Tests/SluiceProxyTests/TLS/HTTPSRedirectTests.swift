import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// A plain listener with `https_redirect` sends every request to the same URL over HTTPS.
@Suite struct HTTPSRedirectTests {
    static func start(_ redirect: HTTPSRedirectConfig) async throws -> (ProxyHarness, TestBackend) {
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [backend.address]) { config in
            config.listeners[0].httpsRedirect = redirect
        }
        return (proxy, backend)
    }

    @Test func everyRequestIsRedirectedWithItsPathAndQuery() async throws {
        let (proxy, backend) = try await Self.start(HTTPSRedirectConfig())
        let get = Curl.parse(try await Curl.run(["-i", "-H", "Host: Shop.Test:8080", "\(proxy.url)/a/b?c=1&d"]).stdout)
        #expect(get.status == 301)
        #expect(get.headers["location"] == "https://shop.test/a/b?c=1&d")
        #expect(get.headers["content-length"] == "0")
        let ipv6 = Curl.parse(try await Curl.run(["-i", "-H", "Host: [::1]:8080", "\(proxy.url)/"]).stdout)
        #expect(ipv6.headers["location"] == "https://[::1]/")
        #expect(backend.requestCount == 0)
        // Each answer keeps the connection: two requests on one connection both redirect.
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let both = try await client.send([
            .init(method: .GET, uri: "/one", headers: ["host": "shop.test"]),
            .init(method: .GET, uri: "/two", headers: ["host": "shop.test"]),
        ])
        #expect(both.map { $0.head.headers.first(name: "location") } == ["https://shop.test/one", "https://shop.test/two"])
        await client.close()
        await proxy.stop()
        await backend.stop()
    }

    @Test func portAndStatusAreConfigurable() async throws {
        let (proxy, backend) = try await Self.start(HTTPSRedirectConfig(port: 8443, status: 308))
        let post = Curl.parse(try await Curl.run(["-i", "-X", "POST", "-d", "x=1", "-H", "Host: shop.test", "\(proxy.url)/form"]).stdout)
        #expect(post.status == 308)
        #expect(post.headers["location"] == "https://shop.test:8443/form")
        #expect(proxy.accessLog.all.contains { $0.contains("\"status\":308") })
        await proxy.stop()
        await backend.stop()
    }

    @Test func aHostThatIsNotANameIsRefused() async throws {
        let (proxy, backend) = try await Self.start(HTTPSRedirectConfig())
        for host in ["evil.test/path", "a b", "[zz::1]", ""] {
            let out = Curl.parse(try await Curl.run(["-i", "-H", "Host: \(host)", "\(proxy.url)/"]).stdout)
            #expect(out.status == 400, "\(host)")
            #expect(out.headers["location"] == nil)
        }
        await proxy.stop()
        await backend.stop()
    }

    @Test func theRedirectHostRuleKeepsNamesAndLiteralsOnly() {
        #expect(ProxyHandler.redirectHost("Example.COM:80") == "example.com")
        #expect(ProxyHandler.redirectHost("[2001:db8::1]:8080") == "[2001:db8::1]")
        #expect(ProxyHandler.redirectHost("10.0.0.1") == "10.0.0.1")
        #expect(ProxyHandler.redirectHost("a@b") == nil)
        #expect(ProxyHandler.redirectHost("[::1") == nil)
        #expect(ProxyHandler.redirectHost(":80") == nil)
    }
}
