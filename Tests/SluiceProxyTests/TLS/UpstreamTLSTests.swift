import NIOHTTP1
import NIOSSL
import SluiceConfig
import Testing
@testable import SluiceProxy

/// HTTPS from Sluice to a cluster's backends: verified against a CA bundle, by name or by IP
/// address, with a client certificate when the backend asks for one.
@Suite struct UpstreamTLSTests {
    /// A TLS backend presenting `pair`; with `clientCA`, it requires a client certificate it signed.
    static func backend(_ pair: (cert: String, key: String), clientCA: String? = nil) async throws -> TestBackend {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pair.cert).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pair.key, format: .pem)))
        if let clientCA {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .file(clientCA)
        }
        return try await TestBackend.start(tls: try NIOSSLContext(configuration: tls), group: testGroup)
    }

    static func proxy(_ backend: TestBackend, _ tls: ClusterTLSConfig,
                      _ configure: @escaping (inout SluiceConfig) -> Void = { _ in }) async throws -> ProxyHarness {
        try await ProxyHarness.start(backends: [backend.address]) { config in
            config.clusters[0].tls = tls
            config.clusters[0].retries.maxRetries = 0
            // The handshake counts against the connect timeout; the full suite on 2 cores can
            // keep a loop busy for seconds, and a 504 there would hide the 502 under test.
            config.timeouts.upstreamConnect = .seconds(60)
            configure(&config)
        }
    }

    static func tls(_ certs: TestCertificates, serverName: String? = nil) -> ClusterTLSConfig {
        var tls = ClusterTLSConfig()
        tls.caFile = certs.caFile
        tls.serverName = serverName
        return tls
    }

    @Test func theBackendIsReachedOverVerifiedTLSByName() async throws {
        let certs = try await TestCertificates.make()
        let backend = try await Self.backend(try await certs.leaf("backend", names: ["backend.internal"]))
        let proxy = try await Self.proxy(backend, Self.tls(certs, serverName: "backend.internal"))
        for _ in 0..<3 { #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend") }
        // Keep-alive works over TLS too: one handshake, one connection.
        #expect(backend.connectionsAccepted == 1)
        await proxy.stop()
        await backend.stop()
    }

    @Test func anIPAddressIsCheckedAgainstTheCertificatesAddresses() async throws {
        let certs = try await TestCertificates.make()
        let byIP = try await Self.backend(try await certs.leaf("ip", names: ["IP:127.0.0.1"]))
        let proxy = try await Self.proxy(byIP, Self.tls(certs))
        #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
        await proxy.stop()
        await byIP.stop()
        // A certificate with only a name does not cover the address.
        let byName = try await Self.backend(try await certs.leaf("name", names: ["backend.internal"]))
        let refused = try await Self.proxy(byName, Self.tls(certs))
        let out = Curl.parse(try await Curl.run(["-i", "\(refused.url)/hello"]).stdout)
        #expect(out.status == 502)
        #expect(out.body == "upstream TLS handshake failed with \(byName.address)\n")
        await refused.stop()
        await byName.stop()
    }

    @Test func aCertificateForAnotherNameOrCAIs502AndVerifyOffAcceptsIt() async throws {
        let certs = try await TestCertificates.make()
        let backend = try await Self.backend(try await certs.leaf("backend", names: ["backend.internal"]))
        let wrongName = try await Self.proxy(backend, Self.tls(certs, serverName: "other.internal"))
        let out = Curl.parse(try await Curl.run(["-i", "\(wrongName.url)/hello"]).stdout)
        #expect(out.status == 502)
        #expect(out.body == "upstream TLS handshake failed with \(backend.address)\n")
        #expect(wrongName.errorLog.all.contains { $0.contains("other.internal") })
        await wrongName.stop()

        let otherCA = try await TestCertificates.make()
        let untrusted = try await Self.proxy(backend, Self.tls(otherCA, serverName: "backend.internal"))
        let distrusted = try await Curl.run(["-i", "\(untrusted.url)/hello"])
        #expect(Curl.parse(distrusted.stdout).status == 502, "\(distrusted.stdout) \(untrusted.errorLog.all.suffix(3))")
        await untrusted.stop()

        var anything = Self.tls(otherCA, serverName: "other.internal")
        anything.verify = false
        let unchecked = try await Self.proxy(backend, anything)
        #expect(try await Curl.run(["\(unchecked.url)/hello"]).stdout == "hello from backend")
        await unchecked.stop()
        await backend.stop()
    }

    @Test func aClientCertificateIsPresentedWhenConfigured() async throws {
        let certs = try await TestCertificates.make()
        let backend = try await Self.backend(try await certs.leaf("backend", names: ["backend.internal"]), clientCA: certs.caFile)
        let client = try await certs.leaf("client", names: ["sluice.internal"])
        let anonymous = try await Self.proxy(backend, Self.tls(certs, serverName: "backend.internal"))
        let refused = try await Curl.run(["-i", "\(anonymous.url)/hello"])
        #expect(Curl.parse(refused.stdout).status == 502, "\(refused.stdout) \(anonymous.errorLog.all.suffix(3))")
        await anonymous.stop()
        var mutual = Self.tls(certs, serverName: "backend.internal")
        mutual.clientCert = client.cert
        mutual.clientKey = client.key
        let proxy = try await Self.proxy(backend, mutual)
        #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
        await proxy.stop()
        await backend.stop()
    }

    @Test func healthChecksGoOverTLSToo() async throws {
        let certs = try await TestCertificates.make()
        let backend = try await Self.backend(try await certs.leaf("backend", names: ["backend.internal"]))
        let proxy = try await Self.proxy(backend, Self.tls(certs, serverName: "backend.internal")) { config in
            var check = HealthCheckConfig()
            check.path = "/hello"
            check.interval = .milliseconds(50)
            config.clusters[0].healthCheck = check
        }
        // The backend speaks only TLS: a check it answers came over TLS.
        #expect(await eventually { backend.lastRequestHead?.headers.first(name: "user-agent") == "sluice-health-check" })
        await proxy.stop()
        await backend.stop()
    }

    @Test func eachBadFileIsNamedByItsKeyPath() async throws {
        let certs = try await TestCertificates.make()
        let client = try await certs.leaf("client", names: ["c.internal"])
        func error(_ configure: (inout ClusterTLSConfig) -> Void) -> String? {
            var tls = ClusterTLSConfig()
            configure(&tls)
            do {
                _ = try UpstreamTLS.make(tls, index: 1, previous: nil)
                return nil
            } catch {
                return "\(error)"
            }
        }
        let missing = certs.directory + "/missing.pem"
        #expect(error { $0.caFile = missing } == "clusters[1].tls.ca_file: cannot read \(missing): No such file or directory")
        #expect(error { $0.caFile = client.key }?.hasPrefix("clusters[1].tls.ca_file: \(client.key) is not a PEM certificate bundle") == true)
        #expect(error { ($0.clientCert, $0.clientKey) = (client.cert, missing) }
            == "clusters[1].tls.client_key: cannot read \(missing): No such file or directory")
        #expect(error { ($0.caFile, $0.clientCert, $0.clientKey) = (certs.caFile, client.cert, client.key) } == nil)
        let issues: [String]
        do {
            _ = try ConfigLoader.parse("clusters:\n  - name: a\n    tls: {client_cert: c.pem}\n", source: "/t.yaml", environment: [:])
            issues = []
        } catch {
            issues = error.issues.map { "\($0.path): \($0.message)" }
        }
        #expect(issues == ["clusters[0].tls: client_cert and client_key go together: client_key is missing"])
    }
}
