import Foundation
import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// WebSocket through Sluice with a real client and server (Python's `websockets`): the
/// handshake is forwarded, the 101 relayed, then bytes flow both ways until either side closes.
@Suite struct WebSocketTests {
    static let peer = SluiceProcess.packageRoot + "/Tests/Peers/ws_peer.py"

    /// The echo server, and its port once it printed it.
    static func echoServer() async throws -> (ChildProcess, Int) {
        let child = try ChildProcess.launch("/usr/bin/env", ["python3", peer, "server"])
        let found = await eventually(within: 20) { child.stdoutText.contains("port ") || !child.isRunning }
        guard found, let line = child.stdoutText.split(separator: "\n").first(where: { $0.hasPrefix("port ") }),
              let port = Int(line.dropFirst(5)) else {
            child.kill()
            throw SluiceProcess.LaunchError(description: "ws echo server did not start: \(child.stderrText)")
        }
        return (child, port)
    }

    static func python(_ arguments: [String], timeout: Double = 120) async throws -> SluiceProcess.CommandResult {
        try await offPool {
            let child = try ChildProcess.launch("/usr/bin/env", ["python3", peer] + arguments)
            let status = child.waitForExit(timeout: timeout)
            if status == nil { child.kill() }
            child.waitForOutput(timeout: 5)
            return SluiceProcess.CommandResult(status: status ?? -1, stdout: child.stdoutText, stderr: child.stderrText)
        }
    }

    @Test func messagesOfEverySizeAndFragmentedOnesEchoThroughTheTunnel() async throws {
        let (server, port) = try await Self.echoServer()
        defer { server.kill() }
        let proxy = try await ProxyHarness.start(backends: ["127.0.0.1:\(port)"])
        let out = try await Self.python(["client", "ws://127.0.0.1:\(proxy.port)/chat"])
        #expect(out.stdout == "ok\n", "stdout: \(out.stdout) stderr: \(out.stderr)")
        // One access-log line per tunnel, written when it ends, with the bytes both ways.
        #expect(await eventually { proxy.accessLog.all.contains { $0.contains("\"status\":101") } })
        let line = try #require(proxy.accessLog.all.first { $0.contains("\"status\":101") })
        let bytesOut = Self.number("bytes_out", in: line) ?? 0
        let bytesIn = Self.number("bytes_in", in: line) ?? 0
        #expect(bytesOut > 4 * 1024 * 1024 && bytesIn > 4 * 1024 * 1024, "\(line)")
        await proxy.stop()
    }

    @Test func theTunnelWorksOverTLSToo() async throws {
        let (server, port) = try await Self.echoServer()
        defer { server.kill() }
        let certs = try await TestCertificates.make()
        let pair = try await certs.leaf("ws", names: ["IP:127.0.0.1"])
        let proxy = try await ProxyHarness.start(backends: ["127.0.0.1:\(port)"]) { config in
            config.listeners[0].tls = ListenerTLSConfig(certificates: [TLSCertificateConfig(certFile: pair.cert, keyFile: pair.key)])
        }
        let env = ["SSL_CERT_FILE": certs.caFile]
        let out = try await offPool {
            let child = try ChildProcess.launch("/usr/bin/env", ["python3", Self.peer, "client", "wss://127.0.0.1:\(proxy.port)/chat"],
                                                environment: ProcessInfo.processInfo.environment.merging(env) { $1 })
            let status = child.waitForExit(timeout: 120)
            if status == nil { child.kill() }
            child.waitForOutput(timeout: 5)
            return (status, child.stdoutText, child.stderrText)
        }
        #expect(out.1 == "ok\n", "stdout: \(out.1) stderr: \(out.2)")
        await proxy.stop()
    }

    @Test func aQuietTunnelIsClosedAfterTunnelIdle() async throws {
        let (server, port) = try await Self.echoServer()
        defer { server.kill() }
        let proxy = try await ProxyHarness.start(backends: ["127.0.0.1:\(port)"]) { config in
            config.timeouts.tunnelIdle = .milliseconds(300)
        }
        let out = try await Self.python(["idle", "ws://127.0.0.1:\(proxy.port)/", "30"])
        #expect(out.stdout == "closed\n", "stdout: \(out.stdout) stderr: \(out.stderr)")
        #expect(await eventually { proxy.accessLog.all.contains { $0.contains("tunnel idle timeout") } })
        await proxy.stop()
    }

    @Test func theHandshakeReachesTheBackendAsAnUpgradeAndOthersDoNot() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [backend.address]) { config in
            var plain = RouteConfig(name: "plain", match: RouteMatch(pathPrefix: "/plain"), cluster: "main")
            plain.websocket = false
            config.routes.insert(plain, at: 0)
        }
        let upgrade: HTTPHeaders = ["host": "ws.test", "connection": "keep-alive, Upgrade", "upgrade": "websocket",
                                    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13"]
        // TestBackend does not speak WebSocket: it answers 200, which is relayed as such.
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let answer = try await client.send([.init(method: .GET, uri: "/headers", headers: upgrade)])
        let echoed = answer.first?.body ?? ""
        #expect(echoed.contains("connection: Upgrade\n") && echoed.contains("upgrade: websocket\n"), "\(echoed)")
        #expect(echoed.contains("sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\n"))
        await client.close()
        // On a route with websocket: false, and for another protocol, the upgrade is dropped.
        for (path, protocolName) in [("/plain/headers", "websocket"), ("/headers", "h2c")] {
            var headers = upgrade
            headers.replaceOrAdd(name: "upgrade", value: protocolName)
            let other = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let plain = try await other.send([.init(method: .GET, uri: path, headers: headers)])
            let text = plain.first?.body ?? ""
            #expect(!text.contains("upgrade:"), "\(path) \(protocolName): \(text)")
            await other.close()
        }
        await proxy.stop()
        await backend.stop()
    }

    @Test func theUpgradeRuleIsExact() {
        func head(_ method: HTTPMethod = .GET, _ fields: [(String, String)]) -> HTTPRequestHead {
            HTTPRequestHead(version: .http1_1, method: method, uri: "/", headers: HTTPHeaders(fields))
        }
        let ws = [("Connection", "Upgrade"), ("Upgrade", "WebSocket")]
        #expect(ProxyHandler.webSocketUpgrade(head(.GET, ws), framing: .none) == "websocket")
        #expect(ProxyHandler.webSocketUpgrade(head(.GET, [("Connection", "keep-alive, upgrade"), ("Upgrade", "websocket")]), framing: .none) == "websocket")
        #expect(ProxyHandler.webSocketUpgrade(head(.POST, ws), framing: .none) == nil)
        #expect(ProxyHandler.webSocketUpgrade(head(.GET, ws), framing: .length(3)) == nil)
        #expect(ProxyHandler.webSocketUpgrade(head(.GET, [("Upgrade", "websocket")]), framing: .none) == nil)
        #expect(ProxyHandler.webSocketUpgrade(head(.GET, [("Connection", "Upgrade"), ("Upgrade", "h2c")]), framing: .none) == nil)
    }

    static func number(_ key: String, in line: String) -> Int? {
        guard let range = line.range(of: "\"\(key)\":") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}
