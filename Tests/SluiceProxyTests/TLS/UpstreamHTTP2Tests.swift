import Foundation
import NIOHTTP1
import NIOSSL
import SluiceConfig
import Testing
@testable import SluiceProxy

/// HTTP/2 from Sluice to a cluster's backends (`clusters[].http2`): h2c and h2 over TLS,
/// requests multiplexed as streams over few connections, gRPC with its trailers, bodies
/// streaming both ways, health checks, and a connection the backend drops.
@Suite struct UpstreamHTTP2Tests {
    static func proxy(_ backend: TestBackend, _ configure: @escaping (inout SluiceConfig) -> Void = { _ in }) async throws -> ProxyHarness {
        try await ProxyHarness.start(backends: [backend.address]) { config in
            config.clusters[0].http2 = ClusterHTTP2Config()
            configure(&config)
        }
    }

    @Test func requestsReachAnH2cBackendAsStreamsOfOneConnection() async throws {
        let backend = try await TestBackend.start(http2: true, group: testGroup)
        let proxy = try await Self.proxy(backend)
        let headers = try await Curl.run(["-H", "TE: gzip", "\(proxy.url)/headers"]).stdout
        #expect(headers.hasPrefix("GET /headers HTTP/2.0\n"), "\(headers.prefix(40))")
        #expect(headers.contains("host: 127.0.0.1:\(proxy.port)\n"))
        // A TE other than trailers is not the backend's business; no HTTP/1.1 framing fields.
        #expect(!headers.contains("te:") && !headers.contains("connection:") && !headers.contains("transfer-encoding:"))
        // The response came over HTTP/2: Via names that hop as "2" (RFC 9110 §7.6.3).
        let response = Curl.parse(try await Curl.run(["-i", "\(proxy.url)/hello"]).stdout)
        #expect(response.body == "hello from backend")
        #expect(response.headers["via"] == "2 sluice")
        for _ in 0..<4 { #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend") }
        #expect(backend.requestCount == 6)
        #expect(backend.connectionsAccepted == 1)
        await proxy.stop()
        await backend.stop()
    }

    /// Twenty requests held at the backend at once: one connection carries them all, or as
    /// many as `max_concurrent_streams` asks for.
    @Test(arguments: [(100, 1), (5, 4)])
    func concurrentRequestsAreMultiplexed(cap: Int, connections: Int) async throws {
        let backend = try await TestBackend.start(gated: true, http2: true, group: testGroup)
        let proxy = try await Self.proxy(backend) { config in config.clusters[0].http2?.maxConcurrentStreams = cap }
        let urls = (0..<20).map { "\(proxy.url)/hello?\($0)" }
        let clients = Task { try await Curl.run(["--parallel", "--parallel-immediate", "--parallel-max", "20"] + urls) }
        let allHeld = await eventually(within: 60) { backend.requestCount == 20 }
        #expect(allHeld, "the backend saw \(backend.requestCount) of 20")
        #expect(backend.connectionsAccepted == connections)
        backend.release()
        let out = try await clients.value.stdout
        #expect(out.components(separatedBy: "hello from backend").count - 1 == 20)
        await proxy.stop()
        await backend.stop()
    }

    /// h2load (nghttp2) as the client: HTTP/2 on both sides, many streams on few connections.
    @Test func h2loadStreamsAllSucceedOverOneUpstreamConnection() async throws {
        let backend = try await TestBackend.start(http2: true, group: testGroup)
        let proxy = try await Self.proxy(backend) { config in config.listeners[0].http2.enabled = true }
        let out = try await offPool {
            let child = try ChildProcess.launch("/usr/bin/env", ["h2load", "-n", "400", "-c", "4", "-m", "20", "\(proxy.url)/hello"])
            if child.waitForExit(timeout: 120) == nil { child.kill() }
            child.waitForOutput(timeout: 5)
            return child.stdoutText + child.stderrText
        }
        #expect(out.contains("400 succeeded, 0 failed, 0 errored"), "\(out)")
        #expect(out.contains("status codes: 400 2xx"), "\(out)")
        #expect(backend.requestCount == 400)
        // Up to 80 requests at once from 4 client connections; one event loop: one connection.
        #expect(backend.connectionsAccepted == 1, "\(proxy.errorLog.all.suffix(5))")
        await proxy.stop()
        await backend.stop()
    }

    @Test func grpcPassesThroughWithTrailersFromAnH2Client() async throws {
        let backend = try await TestBackend.start(http2: true, group: testGroup)
        let proxy = try await Self.proxy(backend) { config in config.listeners[0].http2.enabled = true }
        let out = try await HTTP2Tests.python(["grpc", String(proxy.port), "/grpc", "ping"])
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.first == "status 200", "\(out)")
        #expect(lines.contains("header content-type=application/grpc"))
        #expect(lines.contains("message ping"))
        // The trailers come as trailers, after the message; `te: trailers` reached the backend.
        let status = try #require(lines.firstIndex(of: "trailer grpc-status=0"), "\(out)")
        #expect(status > lines.firstIndex(of: "message ping") ?? Int.max)
        #expect(lines.contains("trailer grpc-message=te trailers"))
        #expect(lines.last == "end")
        await proxy.stop()
        await backend.stop()
    }

    @Test func anHTTP1ClientGetsChunkedBodiesAndTrailersBothWays() async throws {
        let backend = try await TestBackend.start(http2: true, group: testGroup)
        let proxy = try await Self.proxy(backend)
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let echo = try await client.send([
            .init(method: .POST, uri: "/echo", body: ["hello, ", "streamed ", "world"], trailers: ["x-digest": "42"]),
        ]).first
        #expect(echo?.body == "hello, streamed world")
        #expect(echo?.trailers?["x-trailer-x-digest"] == ["42"])
        let download = try await client.get("/trailers")
        #expect(download?.body == "part one,part two")
        #expect(download?.trailers?["x-checksum"] == ["abc123"])
        await client.close()
        #expect(backend.connectionsAccepted == 1)
        await proxy.stop()
        await backend.stop()
    }

    /// Larger than every window on the way: only flow control moves it through.
    @Test func bodiesLargerThanTheWindowsStreamBothWays() async throws {
        let backend = try await TestBackend.start(http2: true, group: testGroup)
        let proxy = try await Self.proxy(backend) { config in config.clusters[0].http2?.initialWindowSize = 16 * 1024 }
        let upload = try TemporaryFile(contents: String(repeating: "u", count: 3 * 1024 * 1024))
        let sunk = try await Curl.run(["--data-binary", "@\(upload.path)", "\(proxy.url)/sink"]).stdout
        #expect(sunk == String(3 * 1024 * 1024))
        let size = try await Curl.run(["-o", "/dev/null", "-w", "%{size_download}", "\(proxy.url)/stream?bytes=8388608"]).stdout
        #expect(size == "8388608")
        await proxy.stop()
        await backend.stop()
    }

    @Test func h2OverTLSIsNegotiatedByALPN() async throws {
        let certs = try await TestCertificates.make()
        let pair = try await certs.leaf("backend", names: ["backend.internal"])
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pair.cert).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pair.key, format: .pem)))
        tls.applicationProtocols = ["h2"]
        let backend = try await TestBackend.start(tls: try NIOSSLContext(configuration: tls), http2: true, group: testGroup)
        let proxy = try await Self.proxy(backend) { config in
            config.clusters[0].tls = UpstreamTLSTests.tls(certs, serverName: "backend.internal")
            config.timeouts.upstreamConnect = .seconds(60)  // a handshake on a loaded machine
        }
        let headers = try await Curl.run(["\(proxy.url)/headers"]).stdout
        #expect(headers.hasPrefix("GET /headers HTTP/2.0\n"), "\(headers.prefix(40))")
        #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
        #expect(backend.connectionsAccepted == 1)
        await proxy.stop()
        await backend.stop()
    }

    @Test func healthChecksSpeakHTTP2Too() async throws {
        let backend = try await TestBackend.start(http2: true, group: testGroup)
        let proxy = try await Self.proxy(backend) { config in
            var check = HealthCheckConfig()
            check.path = "/headers"
            check.interval = .milliseconds(50)
            check.jitter = .zero
            config.clusters[0].healthCheck = check
        }
        let probed = await eventually(within: 30) {
            backend.lastRequestHead?.headers["user-agent"] == ["sluice-health-check"]
        }
        #expect(probed)
        #expect(backend.lastRequestHead?.version.major == 2)
        #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
        await proxy.stop()
        await backend.stop()
    }

    @Test func aConnectionTheBackendDroppedIsReplaced() async throws {
        let backend = try await TestBackend.start(http2: true, group: testGroup)
        let proxy = try await Self.proxy(backend)
        #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
        await backend.closeConnections()
        #expect(await eventually { backend.connectionsOpen == 0 })
        // Whether the proxy saw the close first or its stream fails on the dead connection
        // (then it retries on a new one), the client sees only the answer.
        #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
        #expect(backend.connectionsAccepted == 2)
        await proxy.stop()
        await backend.stop()
    }

    @Test func aReloadedIdleTimeoutReachesTheOpenConnection() async throws {
        let backend = try await TestBackend.start(http2: true, group: testGroup)
        let yaml = { (idle: String) in
            """
            listeners: [{address: 127.0.0.1, port: 0}]
            admin: {port: 0}
            reload: {watch: false}
            clusters: [{name: main, backends: ["\(backend.address)"], http2: true, pool: {idle_timeout: \(idle)}}]
            routes: [{cluster: main}]
            """
        }
        let file = try TemporaryFile(contents: yaml("300s"), name: "sluice-h2-idle")
        let proxy = try await ProxyHarness.start(file: file.path)
        #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
        try yaml("200ms").write(toFile: file.path, atomically: true, encoding: .utf8)
        #expect(await proxy.server.reload().result == .applied)
        // The next request takes the new settings on this loop, on the same connection.
        #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
        #expect(backend.connectionsAccepted == 1)
        #expect(await eventually(within: 30) { backend.connectionsOpen == 0 })
        await proxy.stop()
        await backend.stop()
    }

    @Test func anIdleConnectionClosesAfterThePoolsIdleTimeout() async throws {
        let backend = try await TestBackend.start(http2: true, group: testGroup)
        let proxy = try await Self.proxy(backend) { config in config.clusters[0].pool.idleTimeout = .milliseconds(200) }
        #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
        #expect(await eventually(within: 30) { backend.connectionsOpen == 0 })
        await proxy.stop()
        await backend.stop()
    }
}
