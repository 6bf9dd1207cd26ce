import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// A listener in forward mode, driven by `curl -x`: CONNECT tunnels, absolute-form requests,
/// and every way the ACL says no.
@Suite struct ForwardProxyTests {
    /// A forward proxy that lets loopback clients reach `backend` (a loopback address, so
    /// `allow_private` must name it).
    static func start(_ backend: TestBackend, _ configure: (inout ForwardProxyConfig) -> Void = { _ in }) async throws -> ProxyHarness {
        var forward = ForwardProxyConfig()
        forward.allowClients = [CIDR("127.0.0.0/8")!]
        forward.allowHosts = ["127.0.0.1"]
        forward.allowPorts = [backend.port]
        forward.allowPrivate = [CIDR("127.0.0.1/32")!]
        configure(&forward)
        let settings = forward
        return try await ProxyHarness.start(backends: []) { config in
            config.listeners[0].forwardProxy = settings
            config.routes = []
            config.clusters = []
        }
    }

    static func curl(_ proxy: ProxyHarness, _ arguments: [String]) async throws -> Curl.Output {
        try await Curl.run(["-x", "http://127.0.0.1:\(proxy.port)"] + arguments)
    }

    @Test func connectOpensATunnelToAnAllowedDestination() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start(backend)
        // -p: CONNECT even for http://, so the request inside is the client's own.
        let out = try await Self.curl(proxy, ["-p", "-w", "\n%{http_connect}", "http://127.0.0.1:\(backend.port)/hello"])
        #expect(out.stdout == "hello from backend\n200", "\(out.stderr)")
        #expect(await eventually { proxy.accessLog.all.contains { $0.contains("\"method\":\"CONNECT\"") && $0.contains("\"status\":200") } })
        await proxy.stop()
        await backend.stop()
    }

    @Test func httpsGoesThroughTheTunnelEndToEnd() async throws {
        let certs = try await TestCertificates.make()
        let backend = try await UpstreamTLSTests.backend(try await certs.leaf("ip", names: ["IP:127.0.0.1"]))
        let proxy = try await Self.start(backend)
        let out = try await Self.curl(proxy, ["--cacert", certs.caFile, "https://127.0.0.1:\(backend.port)/hello"])
        #expect(out.stdout == "hello from backend", "\(out.stderr)")
        await proxy.stop()
        await backend.stop()
    }

    @Test func anAbsoluteFormRequestIsForwardedInOriginForm() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start(backend) { $0.users = [ForwardProxyUser(name: "alice", password: "s3cret")] }
        let out = try await Self.curl(proxy, ["-U", "alice:s3cret", "-H", "Keep-Alive: 5", "http://127.0.0.1:\(backend.port)/headers?x=1"])
        let lines = out.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "GET /headers?x=1 HTTP/1.1", "\(out.stdout) \(out.stderr)")
        #expect(lines.contains("host: 127.0.0.1:\(backend.port)"))
        #expect(lines.contains("connection: close"))
        #expect(!lines.contains { $0.hasPrefix("proxy-authorization") || $0.hasPrefix("keep-alive") || $0.hasPrefix("proxy-connection") })
        // A body goes along, framed as the client framed it.
        let posted = try await Self.curl(proxy, ["-U", "alice:s3cret", "--data-binary", "twelve bytes", "http://127.0.0.1:\(backend.port)/sink"])
        #expect(posted.stdout == "12")
        let chunked = try await Self.curl(proxy, ["-U", "alice:s3cret", "-H", "Transfer-Encoding: chunked", "--data-binary", "seven b",
                                                 "http://127.0.0.1:\(backend.port)/sink"])
        #expect(chunked.stdout == "7")
        #expect(await eventually { proxy.accessLog.all.contains { $0.contains("\"path\":\"http://127.0.0.1:\(backend.port)/sink\"") && $0.contains("\"status\":200") } })
        await proxy.stop()
        await backend.stop()
    }

    @Test func theACLDeniesByDefaultAndNamesWhy() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let url = "http://127.0.0.1:\(backend.port)/hello"
        func refusal(_ configure: (inout ForwardProxyConfig) -> Void, _ extra: [String] = [], target: String? = nil) async throws -> (Int, String) {
            let proxy = try await Self.start(backend, configure)
            let out = Curl.parse(try await Self.curl(proxy, ["-i"] + extra + [target ?? url]).stdout)
            await proxy.stop()
            return (out.status, out.body)
        }
        #expect(try await refusal { $0 = ForwardProxyConfig() } == (403, "client 127.0.0.1 may not use this proxy\n"))
        #expect(try await refusal { $0.allowClients = [CIDR("10.0.0.0/8")!] } == (403, "client 127.0.0.1 may not use this proxy\n"))
        #expect(try await refusal { $0.allowHosts = ["example.com"] } == (403, "destination 127.0.0.1 is not allowed through this proxy\n"))
        #expect(try await refusal { $0.allowPorts = [80] } == (403, "port \(backend.port) is not allowed through this proxy\n"))
        // SSRF: listed, but loopback, and allow_private does not cover it.
        #expect(try await refusal { $0.allowPrivate = [] } == (403, "destination 127.0.0.1 is a non-public address, not allowed through this proxy\n"))
        // A name listed by wildcard that resolves to loopback is refused the same way.
        #expect(try await refusal({ ($0.allowHosts, $0.allowPrivate) = (["*"], []) }, target: "http://localhost:\(backend.port)/hello").0 == 403)
        // Not a proxy request at all.
        let plain = try await Self.start(backend)
        #expect(Curl.parse(try await Curl.run(["-i", "http://127.0.0.1:\(plain.port)/hello"]).stdout).status == 400)
        await plain.stop()
        #expect(backend.requestCount == 0)
        await backend.stop()
    }

    @Test func credentialsAreRequiredWhenUsersAreSet() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start(backend) { $0.users = [ForwardProxyUser(name: "alice", password: "s3cret")] }
        let url = "http://127.0.0.1:\(backend.port)/hello"
        let none = Curl.parse(try await Self.curl(proxy, ["-i", url]).stdout)
        #expect(none.status == 407)
        #expect(none.headers["proxy-authenticate"] == "Basic realm=\"sluice\"")
        #expect(Curl.parse(try await Self.curl(proxy, ["-i", "-U", "alice:wrong", url]).stdout).status == 407)
        #expect(Curl.parse(try await Self.curl(proxy, ["-i", "-U", "bob:s3cret", url]).stdout).status == 407)
        #expect(try await Self.curl(proxy, ["-U", "alice:s3cret", url]).stdout == "hello from backend")
        let tunnel = try await Self.curl(proxy, ["-p", "-s", "-o", "/dev/null", "-w", "%{http_connect}", url])
        #expect(tunnel.stdout == "407")
        await proxy.stop()
        await backend.stop()
    }

    @Test func destinationsAndAddressesFollowTheRules() {
        typealias D = ForwardPolicy.Destination
        func destination(_ method: HTTPMethodName, _ uri: String) -> D? {
            try? ForwardPolicy.destination(of: .init(version: .http1_1, method: method.nio, uri: uri)).get()
        }
        #expect(destination(.connect, "example.com:443") == D(host: "example.com", port: 443, path: nil))
        #expect(destination(.connect, "[2001:db8::1]:443") == D(host: "2001:db8::1", port: 443, path: nil))
        #expect(destination(.connect, "example.com") == nil)
        #expect(destination(.get, "http://Example.com/a?b") == D(host: "Example.com", port: 80, path: "/a?b"))
        #expect(destination(.get, "http://example.com:8080") == D(host: "example.com", port: 8080, path: "/"))
        #expect(destination(.get, "http://example.com?q") == D(host: "example.com", port: 80, path: "/?q"))
        #expect(destination(.get, "http://user@example.com/") == nil)
        #expect(destination(.get, "/relative") == nil)

        var config = ForwardProxyConfig()
        config.allowHosts = ["*.example.com", "api.test"]
        let policy = ForwardPolicy(config: config)
        #expect(policy.allows(D(host: "a.example.com", port: 443)) == nil)
        #expect(policy.allows(D(host: "a.b.example.com", port: 443)) == nil)
        #expect(policy.allows(D(host: "example.com", port: 443)) != nil)
        #expect(policy.allows(D(host: "API.test", port: 80)) == nil)
        #expect(policy.allows(D(host: "api.test", port: 22)) != nil)
        for address in ["10.1.2.3", "172.31.255.1", "192.168.0.1", "169.254.169.254", "127.0.0.53", "100.64.0.1", "0.0.0.0",
                        "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"] {
            #expect(policy.allows(address: CIDR.parseAddress(address)!, of: address) != nil, "\(address)")
        }
        for address in ["8.8.8.8", "172.32.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"] {
            #expect(policy.allows(address: CIDR.parseAddress(address)!, of: address) == nil, "\(address)")
        }
        config.allowPrivate = [CIDR("10.0.0.0/8")!]
        #expect(ForwardPolicy(config: config).allows(address: CIDR.parseAddress("10.9.9.9")!, of: "db") == nil)
        #expect(ForwardPolicy(config: config).allows(address: CIDR.parseAddress("::ffff:10.9.9.9")!, of: "db") == nil)
    }
}

extension ForwardPolicy.Destination {
    init(host: String, port: Int) { self.init(host: host, port: port, path: nil) }
}

enum HTTPMethodName {
    case connect, get
    var nio: HTTPMethod { self == .connect ? .CONNECT : .GET }
}
