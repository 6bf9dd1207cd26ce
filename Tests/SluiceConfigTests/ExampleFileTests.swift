import Foundation
import Testing
@testable import SluiceConfig

/// `sluice.example.yaml` is the documentation of every key, so it must load, mention every key
/// the reader knows, and show the real defaults.
@Suite struct ExampleFileTests {
    /// Three levels up from this file is the package root; symlinks are resolved first so the
    /// same works from a package that links this test folder in.
    static let path = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sluice.example.yaml").path

    @Test func loadsWithoutIssues() throws {
        let config = try ConfigLoader.load(path: Self.path, environment: [:])
        #expect(config.listeners.count == 4)
        #expect(config.listeners[3].forwardProxy?.allowPorts == ForwardProxyConfig().allowPorts)
        #expect(config.listeners[1].tls?.certificates.first?.certFile == "/etc/sluice/tls/example.pem")
        #expect(config.listeners[2].httpsRedirect == HTTPSRedirectConfig(port: 8443))
        #expect(config.clusters.count == 2)
        #expect((2...3).contains(config.routes.count))
        for backend in config.clusters.flatMap(\.backends) { #expect(backend.host == "127.0.0.1") }
    }

    @Test func documentsEveryKnownKey() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        let (root, treeIssues) = try ConfigTree.parse(text, format: .yaml, file: Self.path)
        #expect(treeIssues.isEmpty)
        for keyPath in ConfigSchema.keyPaths {
            #expect(Self.exists(keyPath, in: root), "\(keyPath) is not in sluice.example.yaml")
        }
    }

    @Test func globalValuesAreTheDefaults() throws {
        let config = try ConfigLoader.load(path: Self.path, environment: [:])
        let defaults = SluiceConfig()
        #expect(config.eventLoops == defaults.eventLoops)
        #expect(config.listeners[0] == defaults.listeners[0])
        // The TLS listener shows every default but its files.
        var tls = try #require(config.listeners[1].tls)
        #expect(tls.hsts == HSTSConfig())
        tls.certificates = []
        tls.hsts = nil
        #expect(tls == ListenerTLSConfig(certificates: []))
        #expect(config.limits == defaults.limits)
        #expect(config.timeouts == defaults.timeouts)
        #expect(config.headers == defaults.headers)
        #expect(config.accessLog == defaults.accessLog)
        let web = try #require(config.clusters.first)
        #expect(web.balancer == .roundRobin)
        #expect(web.pool == PoolConfig())
        #expect(web.hash == HashConfig())
        #expect(web.outlierDetection == OutlierConfig())
        #expect(web.circuitBreaker == CircuitBreakerConfig())
        #expect(web.retries == RetryConfig())
        #expect(web.panicThreshold == 50 && web.slowStart == .zero)
        // The example shows a health check; its other values are the defaults.
        var check = try #require(web.healthCheck)
        #expect(check.path == "/healthz" && check.host == "web.internal" && check.bodyContains == "ok")
        (check.path, check.host, check.bodyContains) = ("/", nil, nil)
        #expect(check == HealthCheckConfig())
        #expect(web.backends.first?.weight == 1)
    }

    @Test func schemaWalkerSeesMissingKeys() throws {
        let (root, _) = try ConfigTree.parse("routes:\n  - cluster: a\n", format: .yaml, file: "t")
        #expect(Self.exists("routes[].cluster", in: root))
        #expect(!Self.exists("routes[].match.host", in: root))
        #expect(!Self.exists("listeners[].port", in: root))
    }

    /// Whether `keyPath` (`a[].b.c`) is present; `[]` means "in some element of the list".
    static func exists(_ keyPath: String, in node: ConfigNode) -> Bool {
        exists(keyPath.split(separator: ".").map(String.init)[...], in: node)
    }

    private static func exists(_ parts: ArraySlice<String>, in node: ConfigNode) -> Bool {
        guard let part = parts.first else { return true }
        let isList = part.hasSuffix("[]")
        guard let child = node[isList ? String(part.dropLast(2)) : part] else { return false }
        guard isList else { return exists(parts.dropFirst(), in: child) }
        guard case .list(let items) = child.kind else { return false }
        return items.contains { exists(parts.dropFirst(), in: $0) }
    }
}
