import Foundation
import SluiceTestSupport
import Testing
@testable import SluiceProxy

/// `user`: started as root, the real binary binds, then runs as the named user; a user that
/// does not exist stops it with a clear message instead of running as root.
#if os(Linux)
@Suite(.enabled(if: getuid() == 0, "needs root, as CI and this machine run the tests; reads /proc"))
struct PrivilegeDropTests {
    @Test func afterBindingTheProcessRunsAsTheConfiguredUser() async throws {
        let nobody = try #require(getpwnam("nobody")?.pointee.pw_uid)
        let nogroup = try #require(getpwnam("nobody")?.pointee.pw_gid)
        let backend = try await TestBackend.start(group: testGroup)
        let sluice = try await SluiceProcess.start(configYAML: SluiceProcess.oneBackendConfig(backend: backend, extra: "user: nobody"))
        defer { sluice.terminate() }
        #expect(await eventually { sluice.stderrText.contains("switched to user nobody") })
        // Real, effective, saved and filesystem uids are all nobody's.
        let status = try String(contentsOfFile: "/proc/\(sluice.pid)/status", encoding: .utf8).split(separator: "\n")
        func ids(_ field: String) -> [UInt32]? {
            status.first { $0.hasPrefix(field) }?.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().compactMap { UInt32($0) }
        }
        #expect(ids("Uid:") == [nobody, nobody, nobody, nobody])
        #expect(ids("Gid:") == [nogroup, nogroup, nogroup, nogroup])
        // Root's supplementary groups are gone: only nobody's own remain.
        #expect(ids("Groups:")?.contains(0) == false)
        #expect(try await Curl.run(["-s", sluice.url + "/"]).stdout == "hello from backend")
        sluice.signal(SIGTERM)
        #expect(await sluice.exit(within: 20) == 0)
        await backend.stop()
    }

    @Test func anUnknownUserStopsTheStart() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let file = try TemporaryFile(contents: SluiceProcess.oneBackendConfig(backend: backend, extra: "user: no-such-user-here"))
        let result = try await SluiceProcess.run(["run", "-c", file.path], timeout: 30)
        #expect(result.status != 0)
        #expect(result.stderr.contains("no such user \"no-such-user-here\""), "\(result.stderr)")
        await backend.stop()
    }
}
#endif
