import Atomics
import Foundation
import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// The disk tier through real proxies: what one stored survives its restart, and a file
/// damaged meanwhile is discarded (logged) and fetched again.
@Suite struct DiskCacheTests {
    static func start(_ origin: ScriptedOrigin, directory: String, clock: ManualWallClock) async throws -> ProxyHarness {
        try await ProxyHarness.start(backends: [origin.address], clock: clock) { config in
            config.routes[0].cache = RouteCacheConfig()
            config.cache.disk.path = directory
            config.cache.disk.maxSize = 1 << 20
        }
    }

    static func directory() -> String {
        NSTemporaryDirectory() + "sluice-disk-cache-\(UInt64.random(in: 0...UInt64.max))"
    }

    /// The one entry's file (named by the SHA-256 of its key, under a two-hex-digit folder).
    static func files(in directory: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var found: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                found.append(directory + "/" + path)
            }
        }
        return found
    }

    @Test func storedObjectsSurviveARestart() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let origin = try await ScriptedOrigin.start(group: testGroup)
        origin.set("/kept", [("Cache-Control", "max-age=600"), ("ETag", "\"k\"")], body: "kept across restarts")
        let clock = ManualWallClock()
        let first = try await Self.start(origin, directory: directory, clock: clock)
        let client = try await HTTPTestClient.connect(port: first.port, group: testGroup)
        _ = try await CacheTests.get(client, "/kept")
        #expect(await eventually { Self.files(in: directory).count == 1 })
        await client.close()
        await first.stop()

        clock.advance(by: 30)
        let second = try await Self.start(origin, directory: directory, clock: clock)
        #expect(second.errorLog.all.contains { $0.hasPrefix("disk cache open") && $0.contains("objects=1") })
        let again = try await HTTPTestClient.connect(port: second.port, group: testGroup)
        let hit = try await CacheTests.get(again, "/kept")
        #expect(hit.body == "kept across restarts")
        #expect(hit.head.headers["cache-status"] == ["Sluice; hit; ttl=570"])
        #expect(hit.head.headers["age"] == ["30"])
        #expect(origin.requests(to: "/kept").count == 1)
        #expect(second.server.runtime.cache.store.counters.diskReads.load(ordering: .relaxed) == 1)
        // A purge removes the disk copy too.
        _ = second.server.runtime.purgeEverywhere(.url("http://cache.test/kept"))
        #expect(await eventually { Self.files(in: directory).isEmpty })
        await again.close()
        await CacheTests.stop(second, origin)
    }

    @Test func aCorruptedFileIsDiscardedAndFetchedAgain() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let origin = try await ScriptedOrigin.start(group: testGroup)
        origin.set("/fragile", [("Cache-Control", "max-age=600")], body: String(repeating: "f", count: 4000))
        let clock = ManualWallClock()
        let first = try await Self.start(origin, directory: directory, clock: clock)
        let client = try await HTTPTestClient.connect(port: first.port, group: testGroup)
        _ = try await CacheTests.get(client, "/fragile")
        #expect(await eventually { Self.files(in: directory).count == 1 })
        await client.close()
        await first.stop()

        // One flipped byte in the body: the header still reads, the checksum does not.
        let file = try #require(Self.files(in: directory).first)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count - 10] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: file))

        let second = try await Self.start(origin, directory: directory, clock: clock)
        let again = try await HTTPTestClient.connect(port: second.port, group: testGroup)
        let answer = try await CacheTests.get(again, "/fragile")
        #expect(answer.body == String(repeating: "f", count: 4000))
        #expect(answer.head.headers.first(name: "cache-status")?.hasPrefix("Sluice; fwd=uri-miss") == true)
        #expect(origin.requests(to: "/fragile").count == 2)
        #expect(second.errorLog.all.contains { $0.contains(file) }, "\(second.errorLog.all)")
        await again.close()
        await CacheTests.stop(second, origin)
    }
}
