import Foundation
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// HTTP/2 from clients: h2 over TLS by ALPN and h2c with prior knowledge, through the same
/// routes as HTTP/1.1, with the stream limits and the rapid-reset defence. curl is the client;
/// the `h2` package (tests/Peers/h2_peer.py) sends the frames curl will not.
@Suite struct HTTP2Tests {
    static let peer = SluiceProcess.packageRoot + "/Tests/Peers/h2_peer.py"

    static func start(_ backend: TestBackend, tls pair: (cert: String, key: String)? = nil, clientIdle: Duration? = nil,
                      _ configure: @escaping (inout HTTP2Config) -> Void = { _ in }) async throws -> ProxyHarness {
        try await ProxyHarness.start(backends: [backend.address]) { config in
            if let clientIdle { config.timeouts.clientIdle = clientIdle }
            config.listeners[0].http2.enabled = true
            configure(&config.listeners[0].http2)
            if let pair {
                var tls = ListenerTLSConfig(certificates: [TLSCertificateConfig(certFile: pair.cert, keyFile: pair.key)])
                tls.hsts = HSTSConfig()
                config.listeners[0].tls = tls
            }
        }
    }

    static func python(_ arguments: [String]) async throws -> String {
        try await offPool {
            let child = try ChildProcess.launch("/usr/bin/env", ["python3", peer] + arguments)
            if child.waitForExit(timeout: 60) == nil { child.kill() }
            child.waitForOutput(timeout: 5)
            return child.stdoutText + child.stderrText
        }
    }

    @Test func h2OverTLSIsNegotiatedAndStreamsShareOneConnection() async throws {
        let certs = try await TestCertificates.make()
        let pair = try await certs.leaf("a", names: ["a.test"])
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start(backend, tls: pair)
        let base = "https://a.test:\(proxy.port)"
        let out = try await Curl.run(["--http2", "--cacert", certs.caFile, "--resolve", "a.test:\(proxy.port):127.0.0.1",
                                      "-w", " %{http_version} %{num_connects}\n", "\(base)/hello", "\(base)/hello", "\(base)/hello"])
        #expect(out.stdout == String(repeating: "hello from backend 2 1\n", count: 1) + String(repeating: "hello from backend 2 0\n", count: 2),
                "\(out.stdout) \(out.stderr)")
        // A request body (DATA frames) reaches the backend whole.
        let body = try await Curl.run(["--http2", "--cacert", certs.caFile, "--resolve", "a.test:\(proxy.port):127.0.0.1",
                                       "--data-binary", "nineteen bytes here", "\(base)/sink"])
        #expect(body.stdout == "19")
        // The response carries what HTTP/1.1 responses do: HSTS, the request id, Via.
        let head = Curl.parse(try await Curl.run(["--http2", "-i", "--cacert", certs.caFile, "--resolve", "a.test:\(proxy.port):127.0.0.1",
                                                  "\(base)/hello"]).stdout.replacingOccurrences(of: "HTTP/2 ", with: "HTTP/1.1 "))
        #expect(head.status == 200)
        #expect(head.headers["strict-transport-security"] == "max-age=31536000")
        #expect(head.headers["x-request-id"]?.count == 32)
        // The backend sees an HTTP/1.1 request.
        #expect(backend.lastRequestHead?.version == .http1_1)
        // HTTP/1.1 clients still get HTTP/1.1 on the same listener.
        let old = try await Curl.run(["--http1.1", "--cacert", certs.caFile, "--resolve", "a.test:\(proxy.port):127.0.0.1",
                                      "-w", " %{http_version}", "\(base)/hello"])
        #expect(old.stdout == "hello from backend 1.1")
        await proxy.stop()
        await backend.stop()
    }

    @Test func h2cWithPriorKnowledgeAndHTTP1ShareAPlainListener() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start(backend)
        let h2c = try await Curl.run(["--http2-prior-knowledge", "-w", " %{http_version}", "\(proxy.url)/hello"])
        #expect(h2c.stdout == "hello from backend 2", "\(h2c.stderr)")
        let http1 = try await Curl.run(["-w", " %{http_version}", "\(proxy.url)/hello"])
        #expect(http1.stdout == "hello from backend 1.1")
        await proxy.stop()
        await backend.stop()
    }

    @Test func theSettingsCarryTheConfiguredLimits() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start(backend) { http2 in
            http2.maxConcurrentStreams = 7
            http2.maxHeaderListSize = 4096
        }
        let out = try await Self.python(["settings", String(proxy.port)])
        #expect(out.contains("MAX_CONCURRENT_STREAMS=7\n") && out.contains("MAX_HEADER_LIST_SIZE=4096\n"), "\(out)")
        await proxy.stop()
        await backend.stop()
    }

    @Test func anIdleConnectionGetsGoAwayAfterClientIdle() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start(backend, clientIdle: .milliseconds(300))
        #expect(try await Self.python(["idle", String(proxy.port)]).contains("goaway NO_ERROR"))
        await proxy.stop()
        await backend.stop()
    }

    /// A drain sends GOAWAY; the stream in flight still completes, then the connection closes.
    @Test func aDrainLetsTheStreamInFlightFinishThenCloses() async throws {
        let backend = try await TestBackend.start(gated: true, group: testGroup)
        let proxy = try await Self.start(backend)
        let peer = Task { try await Self.python(["hold", String(proxy.port), "/hello"]) }
        #expect(await eventually(within: 60) { backend.requestCount == 1 })
        let drained = Task { await proxy.server.drain(timeout: .seconds(15)) }
        let refusing = await eventually(within: 30) { (try? await Curl.run(["\(proxy.url)/hello"]))?.status == 7 }
        #expect(refusing, "the listener should stop accepting")
        backend.release()
        let lines = try await peer.value.split(separator: "\n").map(String.init)
        #expect(lines.contains("goaway NO_ERROR"), "\(lines)")
        #expect(lines.contains("end"), "\(lines)")
        // A stream that ended both ways is closed, not reset.
        #expect(!lines.contains { $0.hasPrefix("rst") }, "\(lines)")
        #expect(lines.last == "closed", "\(lines)")
        #expect(await drained.value)
        try? await proxy.server.shutdown()
        await backend.stop()
    }

    @Test func rapidResetGetsGoAway() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await Self.start(backend) { http2 in
            http2.maxResets = 20
            http2.resetWindow = .seconds(60)
        }
        let out = try await Self.python(["rapid-reset", String(proxy.port), "200"])
        #expect(out == "goaway ENHANCE_YOUR_CALM\n", "\(out)")
        // The listener itself is unharmed.
        #expect(try await Curl.run(["--http2-prior-knowledge", "\(proxy.url)/hello"]).stdout == "hello from backend")
        await proxy.stop()
        await backend.stop()
    }
}
