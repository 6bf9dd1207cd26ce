import Foundation
import SluiceConfig
import Testing
@testable import SluiceProxy

/// TLS termination on a listener, checked with curl (a real, independent TLS client) against
/// certificates made for the test by openssl.
@Suite struct TLSTerminationTests {
    /// A proxy whose first listener terminates TLS with `certificates`, in front of one backend.
    static func start(_ certificates: [(cert: String, key: String)], backend: TestBackend,
                      _ configure: @escaping (inout ListenerTLSConfig) -> Void = { _ in }) async throws -> ProxyHarness {
        try await ProxyHarness.start(backends: [backend.address]) { config in
            var tls = ListenerTLSConfig(certificates: certificates.map { TLSCertificateConfig(certFile: $0.cert, keyFile: $0.key) })
            configure(&tls)
            config.listeners[0].tls = tls
        }
    }

    /// curl to `https://NAME:PORT/PATH` with NAME resolved to 127.0.0.1, so that it sends NAME
    /// as SNI and checks the certificate against it.
    static func curl(_ proxy: ProxyHarness, _ certs: TestCertificates, name: String, path: String = "/hello",
                     _ extra: [String] = []) async throws -> Curl.Output {
        try await Curl.run(["--cacert", certs.caFile, "--resolve", "\(name):\(proxy.port):127.0.0.1"] + extra
            + ["https://\(name):\(proxy.port)\(path)"])
    }

    /// The subject curl -v printed for the server's certificate.
    static func subject(_ output: Curl.Output) -> String? {
        output.stderr.split(separator: "\n").first { $0.contains("subject:") }
            .map { String($0[$0.range(of: "subject:")!.upperBound...]).trimmingCharacters(in: .whitespaces) }
    }

    @Test func requestsOverTLSReachTheBackendMarkedHTTPS() async throws {
        let certs = try await TestCertificates.make()
        let pair = try await certs.leaf("a", names: ["a.test"])
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start([pair], backend: backend)
        let out = try await Self.curl(proxy, certs, name: "a.test", path: "/headers", ["-w", "\n%{http_version} %{ssl_verify_result}"])
        #expect(out.status == 0, "\(out.stderr)")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        #expect(lines.last == "1.1 0")  // HTTP/1.1 over a verified chain
        #expect(lines.contains("x-forwarded-proto: https"))
        #expect(lines.contains { $0.hasPrefix("forwarded: for=127.0.0.1;host=\"a.test:\(proxy.port)\";proto=https") })
        // Plain HTTP on the TLS port is not answered as HTTP.
        let plain = try await Curl.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(proxy.port)/hello"])
        #expect(plain.stdout == "000")
        await proxy.stop()
        await backend.stop()
    }

    @Test func sniChoosesTheCertificateByNameAndTheFirstIsTheDefault() async throws {
        let certs = try await TestCertificates.make()
        let a = try await certs.leaf("a", names: ["a.test"])
        let b = try await certs.leaf("b", names: ["b.test", "*.b.test"])
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start([a, b], backend: backend)
        for (name, expected) in [("a.test", "CN=a.test"), ("b.test", "CN=b.test"), ("www.b.test", "CN=b.test")] {
            let out = try await Self.curl(proxy, certs, name: name, ["-v"])
            #expect(out.status == 0, "\(name): \(out.stderr)")
            #expect(out.stdout == "hello from backend")
            #expect(Self.subject(out) == expected, "\(name)")
        }
        // A wildcard covers one label only; an unknown name gets the default (first) certificate,
        // which curl then rightly refuses for that name.
        for name in ["x.www.b.test", "c.test"] {
            let out = try await Self.curl(proxy, certs, name: name, ["-v"])
            #expect(out.status == 60, "\(name): \(out.stderr)")
            #expect(Self.subject(out) == "CN=a.test", "\(name)")
        }
        // No SNI at all (an IP address): the default.
        let bare = try await Curl.run(["-v", "-k", "https://127.0.0.1:\(proxy.port)/hello"])
        #expect(Self.subject(bare) == "CN=a.test")
        await proxy.stop()
        await backend.stop()
    }

    @Test func onlyTLS12AndTLS13AreOffered() async throws {
        let certs = try await TestCertificates.make()
        let pair = try await certs.leaf("a", names: ["a.test"])
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start([pair], backend: backend)
        let old = try await Self.curl(proxy, certs, name: "a.test", ["--tlsv1.1", "--tls-max", "1.1"])
        #expect(old.status == 35)  // handshake refused
        let twelve = try await Self.curl(proxy, certs, name: "a.test", ["--tls-max", "1.2", "-v"])
        #expect(twelve.stdout == "hello from backend")
        // The intermediate list: an ECDHE AEAD suite for this ECDSA key.
        #expect(twelve.stderr.contains("TLSv1.2 / ECDHE-ECDSA-"), "\(twelve.stderr)")
        let thirteen = try await Self.curl(proxy, certs, name: "a.test", ["--tlsv1.3", "-v"])
        #expect(thirteen.stdout == "hello from backend")
        #expect(thirteen.stderr.contains("SSL connection using TLSv1.3"))
        await proxy.stop()

        let strict = try await Self.start([pair], backend: backend) { $0.minVersion = .tls13 }
        let refused = try await Self.curl(strict, certs, name: "a.test", ["--tls-max", "1.2"])
        #expect(refused.status == 35)
        #expect(try await Self.curl(strict, certs, name: "a.test").stdout == "hello from backend")
        await strict.stop()
        await backend.stop()
    }

    @Test func hstsGoesOnEveryTLSResponseIncludingSluicesOwn() async throws {
        let certs = try await TestCertificates.make()
        let pair = try await certs.leaf("a", names: ["a.test"])
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [backend.address]) { config in
            var tls = ListenerTLSConfig(certificates: [TLSCertificateConfig(certFile: pair.cert, keyFile: pair.key)])
            var hsts = HSTSConfig()
            hsts.includeSubdomains = true
            tls.hsts = hsts
            config.listeners[0].tls = tls
            config.routes[0].match.pathPrefix = "/hello"
        }
        let proxied = Curl.parse(try await Self.curl(proxy, certs, name: "a.test", ["-i"]).stdout)
        #expect(proxied.status == 200)
        #expect(proxied.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains")
        let local = Curl.parse(try await Self.curl(proxy, certs, name: "a.test", path: "/nowhere", ["-i"]).stdout)
        #expect(local.status == 404)
        #expect(local.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains")
        await proxy.stop()
        await backend.stop()
    }

    @Test func changedCertificateFilesAreServedWithoutARestart() async throws {
        let certs = try await TestCertificates.make()
        let pair = try await certs.leaf("a", names: ["a.test"], commonName: "first")
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start([pair], backend: backend) { $0.reloadInterval = .milliseconds(50) }
        #expect(Self.subject(try await Self.curl(proxy, certs, name: "a.test", ["-v"])) == "CN=first")
        try await certs.leaf("a", names: ["a.test"], commonName: "second")
        #expect(await eventually { Self.subject(try? await Self.curl(proxy, certs, name: "a.test", ["-v"])) == "CN=second" })
        // A broken write is logged and the pair in force stays.
        try "not a certificate".write(toFile: pair.cert, atomically: true, encoding: .utf8)
        #expect(await eventually { proxy.errorLog.all.contains { $0.hasPrefix("tls certificates not reloaded") } })
        let after = try await Self.curl(proxy, certs, name: "a.test", ["-v"])
        #expect(after.stdout == "hello from backend")
        #expect(Self.subject(after) == "CN=second")
        await proxy.stop()
        await backend.stop()
    }
}

extension TLSTerminationTests {
    static func subject(_ output: Curl.Output?) -> String? { output.flatMap { subject($0) } }
}
