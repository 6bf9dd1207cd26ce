import Foundation
import Logging
import SluiceConfig
import SluiceTestSupport
import Testing
@testable import SluiceProxy

/// `log.format: json`: the real binary's own log lines are one JSON object each, at the
/// configured level.
@Suite struct LogFormatTests {
    @Test func aLineIsOneObjectWithSortedMetadata() {
        let line = JSONLogHandler.line(time: "T", level: .warning, label: "sluice", message: "backend \"x\" ejected",
                                       metadata: ["reason": "5xx", "cluster": "web", "message": "shadowed"])
        #expect(line == "{\"time\":\"T\",\"level\":\"warning\",\"label\":\"sluice\",\"message\":\"backend \\\"x\\\" ejected\",\"cluster\":\"web\",\"reason\":\"5xx\"}")
    }

    @Test func theBinaryLogsJSONAtTheConfiguredLevel() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let file = try TemporaryFile(contents: SluiceProcess.oneBackendConfig(backend: backend, extra: "log: { format: json, level: warning }"),
                                     name: "sluice-json-log")
        let child = try ChildProcess.launch(SluiceProcess.binaryPath, ["run", "-c", file.path, "--log-level", "info"])
        let end = Date().addingTimeInterval(30)
        while Date() < end, !child.stderrText.contains("\"message\":\"listening\""), child.isRunning {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        child.signal(SIGTERM)
        _ = await child.exited(within: 20)
        let lines = child.stderrText.split(separator: "\n").map(String.init)
        // --log-level info wins over log.level warning, so the info line "listening" is there.
        #expect(lines.contains { $0.contains("\"level\":\"info\"") && $0.contains("\"message\":\"listening\"") })
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["time"] is String && object?["label"] is String && object?["message"] is String, "\(line)")
        }
        await backend.stop()
    }

    /// `log.level: notice` from the file alone: info lines (listening, drained) are filtered
    /// out, a notice (an admin drain) is kept.
    @Test func theConfiguredLevelFiltersLines() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let file = try TemporaryFile(contents: """
            event_loops: 1
            listeners: [{ address: 127.0.0.1, port: 0 }]
            clusters: [{ name: web, backends: ["\(backend.address)"] }]
            routes: [{ cluster: web }]
            admin: { port: 0 }
            log: { format: json, level: notice }
            """, name: "sluice-json-level")
        let child = try ChildProcess.launch(SluiceProcess.binaryPath, ["run", "-c", file.path])
        // Port 0 for the admin listener too; its "admin listening" line (a notice) says where.
        #expect(await eventually(within: 30) { Self.adminPort(in: child.stderrText) != nil || !child.isRunning })
        let admin = "http://127.0.0.1:\(Self.adminPort(in: child.stderrText) ?? 0)"
        var up = false
        let end = Date().addingTimeInterval(30)
        while !up, Date() < end, child.isRunning {
            up = (try? await Curl.run(["-o", "/dev/null", "-w", "%{http_code}", "\(admin)/readyz"], timeoutSeconds: 2).stdout) == "200"
            if !up { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        #expect(up, "stderr: \(child.stderrText)")
        let drained = try await Curl.run(["-X", "POST", "\(admin)/clusters/web/backends/\(backend.address)/drain"])
        #expect(drained.stdout.contains("\"draining\":true"))
        #expect(await eventually { child.stderrText.contains("backend drained by admin") })
        child.signal(SIGTERM)
        _ = await child.exited(within: 20)
        let lines = child.stderrText.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("\"level\":\"notice\"") && $0.contains("\"message\":\"backend drained by admin\"") })
        #expect(!lines.contains { $0.contains("\"level\":\"info\"") }, "\(lines)")
        await backend.stop()
    }

    /// `log.level` changes with a reload (no restart): info lines appear once the file says info.
    @Test func aReloadChangesTheLevel() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        func config(_ level: String) -> String {
            """
            event_loops: 1
            listeners: [{ address: 127.0.0.1, port: 0 }]
            clusters: [{ name: web, backends: ["\(backend.address)"] }]
            routes: [{ cluster: web }]
            admin: { port: 0 }
            reload: { watch: false }
            log: { format: json, level: \(level) }
            """
        }
        let file = try TemporaryFile(contents: config("notice"), name: "sluice-live-level")
        let child = try ChildProcess.launch(SluiceProcess.binaryPath, ["run", "-c", file.path])
        defer { child.kill() }
        // Port 0 for the admin listener too; its "admin listening" line (a notice) says where.
        #expect(await eventually(within: 30) { Self.adminPort(in: child.stderrText) != nil || !child.isRunning })
        let admin = "http://127.0.0.1:\(Self.adminPort(in: child.stderrText) ?? 0)"
        var up = false
        let end = Date().addingTimeInterval(30)
        while !up, Date() < end, child.isRunning {
            up = (try? await Curl.run(["-o", "/dev/null", "-w", "%{http_code}", "\(admin)/readyz"], timeoutSeconds: 2).stdout) == "200"
            if !up { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        #expect(up, "stderr: \(child.stderrText)")
        #expect(!child.stderrText.contains("\"level\":\"info\""))
        try config("info").write(toFile: file.path, atomically: true, encoding: .utf8)
        #expect(try await Curl.run(["-X", "POST", "\(admin)/reload"]).stdout.contains("\"result\":\"applied\""))
        #expect(try await Curl.run(["-X", "POST", "\(admin)/reload"]).stdout.contains("\"result\":\"unchanged\""))
        #expect(await eventually { child.stderrText.contains("\"level\":\"info\"") && child.stderrText.contains("reload: configuration unchanged") })
        child.signal(SIGTERM)
        _ = await child.exited(within: 20)
        await backend.stop()
    }

    /// The port in the JSON "admin listening" line: `"address":"[IPv4]127.0.0.1/127.0.0.1:PORT"`.
    static func adminPort(in log: String) -> Int? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains("\"message\":\"admin listening\"") }),
              let range = line.range(of: "\"address\":\"") else { return nil }
        let address = line[range.upperBound...].prefix { $0 != "\"" }
        return address.split(separator: ":").last.flatMap { Int($0) }
    }
}
