import Foundation
import SluiceConfig
import Testing
@testable import SluiceProxy

/// A certificate that cannot be used is named by its key path, at start, in `sluice check` and
/// on a reload, which then keeps the running configuration.
@Suite struct TLSConfigErrorTests {
    static func listener(cert: String, key: String) -> ListenerConfig {
        ListenerConfig(name: "tls", address: "127.0.0.1", port: 0,
                       tls: ListenerTLSConfig(certificates: [TLSCertificateConfig(certFile: cert, keyFile: key)]))
    }

    static func error(_ listener: ListenerConfig) -> String? {
        do {
            _ = try ListenerSettings.make(listener, index: 2)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func eachBadFileIsNamedByItsKeyPath() async throws {
        let certs = try await TestCertificates.make()
        let a = try await certs.leaf("a", names: ["a.test"])
        let b = try await certs.leaf("b", names: ["b.test"])
        let missing = certs.directory + "/missing.pem"
        #expect(Self.error(Self.listener(cert: missing, key: a.key))
            == "listeners[2].tls.certificates[0].cert: cannot read \(missing): No such file or directory")
        #expect(Self.error(Self.listener(cert: a.cert, key: missing))
            == "listeners[2].tls.certificates[0].key: cannot read \(missing): No such file or directory")
        let garbage = certs.directory + "/garbage.pem"
        try "hello".write(toFile: garbage, atomically: true, encoding: .utf8)
        #expect(Self.error(Self.listener(cert: garbage, key: a.key))?
            .hasPrefix("listeners[2].tls.certificates[0].cert: \(garbage) is not a PEM certificate chain") == true)
        #expect(Self.error(Self.listener(cert: a.cert, key: garbage))?
            .hasPrefix("listeners[2].tls.certificates[0].key: \(garbage) is not a PEM private key") == true)
        #expect(Self.error(Self.listener(cert: a.cert, key: b.key))?
            .hasPrefix("listeners[2].tls.certificates[0].key: \(b.key) does not belong to the certificate in \(a.cert)") == true)
        #expect(Self.error(Self.listener(cert: a.cert, key: a.key)) == nil)
    }

    @Test func theConfigReaderChecksTheTLSKeys() throws {
        func issues(_ yaml: String) -> [String] {
            do {
                _ = try ConfigLoader.parse(yaml, source: "/etc/sluice/t.yaml", environment: [:])
                return []
            } catch {
                return error.issues.map { "\($0.path): \($0.message)" }
            }
        }
        let base = "listeners:\n  - port: 0\n"
        #expect(issues(base + "    tls: {}\n") == ["listeners[0].tls: missing required key \"certificates\""])
        #expect(issues(base + "    tls: {certificates: [{cert: a.pem}]}\n")
            == ["listeners[0].tls.certificates[0]: missing required key \"key\""])
        #expect(issues(base + "    tls: {certificates: [{cert: a, key: b}], alpn: [h2]}\n")
            == ["listeners[0].tls.alpn[0]: unsupported ALPN protocol \"h2\"; this version speaks http/1.1 only"])
        #expect(issues(base + "    tls: {certificates: [{cert: a, key: b}], min_version: \"1.1\"}\n")
            == ["listeners[0].tls.min_version: unknown TLS version \"1.1\"; expected one of 1.2, 1.3"])
        #expect(issues(base + "    tls: {certificates: [{cert: a, key: b}]}\n    https_redirect: true\n")
            == ["listeners[0].https_redirect: a listener with tls cannot also redirect to HTTPS: put https_redirect on a plain listener"])
        #expect(issues(base + "    https_redirect: {status: 303}\n")
            == ["listeners[0].https_redirect.status: expected 301, 302, 307 or 308, got 303"])
        #expect(issues(base + "    tls: {certificates: [{cert: a, key: b, server_names: [\"bad name\"]}]}\n")
            == ["listeners[0].tls.certificates[0].server_names[0]: expected a host name such as example.com or *.example.com, got \"bad name\""])
        // Relative files are relative to the config file's folder.
        let config = try ConfigLoader.parse(base + "    tls: {certificates: [{cert: tls/a.pem, key: /k/a.key}]}\n",
                                            source: "/etc/sluice/t.yaml", environment: [:])
        #expect(config.listeners[0].tls?.certificates == [TLSCertificateConfig(certFile: "/etc/sluice/tls/a.pem", keyFile: "/k/a.key")])
        #expect(config.listeners[0].tls?.reloadInterval == .seconds(60))
    }

    @Test func aReloadWithABadCertificateKeepsTheRunningOne() async throws {
        let certs = try await TestCertificates.make()
        let a = try await certs.leaf("a", names: ["a.test"])
        let backend = try await TestBackend.start(group: testGroup)
        let file = try TemporaryFile(contents: "", name: "tls-reload")
        func write(cert: String) throws {
            try """
                listeners: [{name: tls, address: 127.0.0.1, port: 0, tls: {certificates: [{cert: \(cert), key: \(a.key)}]}}]
                clusters: [{name: main, backends: ["\(backend.address)"]}]
                routes: [{cluster: main}]
                admin: {port: 0}
                """.write(toFile: file.path, atomically: true, encoding: .utf8)
        }
        try write(cert: a.cert)
        let proxy = try await ProxyHarness.start(file: file.path)
        try write(cert: certs.directory + "/missing.pem")
        let outcome = await proxy.server.reload()
        #expect(outcome.result == .failed)
        #expect(outcome.error == "\(file.path): listeners[0].tls.certificates[0].cert: cannot read \(certs.directory)/missing.pem: No such file or directory")
        let out = try await TLSTerminationTests.curl(proxy, certs, name: "a.test")
        #expect(out.stdout == "hello from backend")
        await proxy.stop()
        await backend.stop()
    }
}
