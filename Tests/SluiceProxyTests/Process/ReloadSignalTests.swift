import Foundation
import SluiceTestSupport
import Testing
@testable import SluiceProxy

/// SIGHUP on the real binary (what `systemctl reload` and the systemd unit's ExecReload
/// send): the file is read again, a good one applies, a bad one is refused and the process
/// keeps serving on the old one.
@Suite struct ReloadSignalTests {
    @Test func sighupReloadsTheFileAndABadFileIsRefused() async throws {
        let first = try await TestBackend.start(name: "first", group: testGroup)
        let second = try await TestBackend.start(name: "second", group: testGroup)
        // The watch is off, so only the signal can be what reloads.
        let quiet = "reload: {watch: false}"
        let sluice = try await SluiceProcess.start(configYAML: SluiceProcess.oneBackendConfig(backend: first, extra: quiet))
        defer { sluice.terminate() }
        #expect(try await Curl.run(["-s", sluice.url + "/"]).stdout == "hello from first")

        try SluiceProcess.oneBackendConfig(backend: second, extra: quiet).write(toFile: sluice.configPath, atomically: true, encoding: .utf8)
        sluice.signal(SIGHUP)
        #expect(await eventually(within: 20) { sluice.stderrText.contains("configuration reloaded") })
        #expect(try await Curl.run(["-s", sluice.url + "/"]).stdout == "hello from second")

        try "routes: [{cluster: missing}]\n".write(toFile: sluice.configPath, atomically: true, encoding: .utf8)
        sluice.signal(SIGHUP)
        #expect(await eventually(within: 20) { sluice.stderrText.contains("reload failed") })
        #expect(sluice.stderrText.contains("routes[0].cluster"))
        #expect(sluice.isRunning)
        #expect(try await Curl.run(["-s", sluice.url + "/"]).stdout == "hello from second")

        sluice.signal(SIGTERM)
        #expect(await sluice.exit(within: 20) == 0)
        await first.stop()
        await second.stop()
    }
}
