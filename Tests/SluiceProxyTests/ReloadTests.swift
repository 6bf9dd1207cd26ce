import Atomics
import Foundation
import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// Live reload in one process: the file is read and validated first, a bad one changes
/// nothing, requests in flight finish on the configuration they started with, what did not
/// change keeps its state, removed listeners and routes drain within their bounds.
@Suite struct ReloadTests {
    /// A configuration file with clusters `a` (backend a) and `b` (backend b).
    static func yaml(_ a: TestBackend, _ b: TestBackend, routes: String, extra: String = "") -> String {
        """
        listeners: [{name: main, address: 127.0.0.1, port: 0}]
        admin: {port: 0}
        clusters:
          - {name: a, backends: [{address: "\(a.address)"}]}
          - {name: b, backends: [{address: "\(b.address)"}]}
        routes:
        \(routes)
        \(extra)
        """
    }

    static let toA = "  - {name: all, match: {path_prefix: /}, cluster: a}"
    static let toB = "  - {name: all, match: {path_prefix: /}, cluster: b}"

    /// Two backends, a proxy on `initial` written to a file, and the file for `body` to rewrite.
    static func withReloadable(_ initial: (TestBackend, TestBackend) -> String,
                               _ body: (ProxyHarness, TemporaryFile, TestBackend, TestBackend) async throws -> Void) async throws
    {
        let a = try await TestBackend.start(name: "a", group: testGroup)
        let b = try await TestBackend.start(name: "b", group: testGroup)
        let file = try TemporaryFile(contents: initial(a, b), name: "sluice-reload")
        let proxy = try await ProxyHarness.start(file: file.path)
        do {
            try await body(proxy, file, a, b)
        } catch {
            await proxy.stop()
            await a.stop()
            await b.stop()
            throw error
        }
        await proxy.stop()
        await a.stop()
        await b.stop()
    }

    static func write(_ text: String, to file: TemporaryFile) throws {
        try text.write(toFile: file.path, atomically: true, encoding: .utf8)
    }

    @Test func aReloadAppliesTheNewFileAndKeepsUnchangedClusters() async throws {
        try await Self.withReloadable({ Self.yaml($0, $1, routes: Self.toA) }) { proxy, file, a, b in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await client.get("/")?.body == "hello from a")
            let healthBefore = proxy.server.runtime.health.all.first { $0.name == "a" }
            try Self.write(Self.yaml(a, b, routes: "  - {name: bee, match: {path_prefix: /bee}, cluster: b}\n" + Self.toA), to: file)
            let outcome = await proxy.server.reload()
            #expect(outcome.result == .applied && outcome.generation == 2, "\(outcome)")
            #expect(outcome.changes == ["routes: added bee"])
            // The same keep-alive connection: its next request runs on the new configuration.
            #expect(try await client.get("/bee")?.body == "hello from b")
            #expect(try await client.get("/")?.body == "hello from a")
            // Cluster a did not change: its shared health is the same object, not a new one.
            #expect(proxy.server.runtime.health.all.first { $0.name == "a" } === healthBefore)
            #expect(proxy.server.snapshot.generation == 2)
            #expect(proxy.errorLog.all.contains { $0.hasPrefix("configuration reloaded") && $0.contains("generation=2") })
            // The same file again: nothing to swap.
            #expect(await proxy.server.reload().result == .unchanged)
            #expect(proxy.server.snapshot.generation == 2)
            await client.close()
        }
    }

    @Test func aBadFileKeepsTheRunningConfigurationAndSaysWhy() async throws {
        try await Self.withReloadable({ Self.yaml($0, $1, routes: Self.toA) }) { proxy, file, a, b in
            try Self.write(Self.yaml(a, b, routes: "  - {name: all, match: {path_prefix: /}, cluster: nowhere}"), to: file)
            let outcome = await proxy.server.reload()
            #expect(outcome.result == .failed && outcome.generation == 1)
            let error = outcome.error ?? ""
            #expect(error.contains(file.path) && error.contains("routes[0].cluster") && error.contains("nowhere"), "\(error)")
            #expect(proxy.server.snapshot.generation == 1)
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await client.get("/")?.body == "hello from a")
            await client.close()
            #expect(proxy.errorLog.all.contains { $0.hasPrefix("reload failed: the running configuration stays in force") })
            let metrics = proxy.server.runtime.metrics.render(runtime: proxy.server.runtime)
            #expect(metrics.contains("sluice_config_reloads_total{result=\"failed\"} 1"))
            #expect(metrics.contains("sluice_config_last_reload_successful 0"))
            #expect(metrics.contains("sluice_config_generation 1"))
            // A file that cannot be read at all fails the same way.
            let missing = await proxy.server.reload(from: file.path + ".missing")
            #expect(missing.result == .failed && (missing.error ?? "").contains(".missing"))
            // Fixed again: the next reload applies and the gauge recovers.
            try Self.write(Self.yaml(a, b, routes: Self.toB), to: file)
            #expect(await proxy.server.reload().result == .applied)
            let after = proxy.server.runtime.metrics.render(runtime: proxy.server.runtime)
            #expect(after.contains("sluice_config_reloads_total{result=\"applied\"} 1"))
            #expect(after.contains("sluice_config_last_reload_successful 1"))
        }
    }

    @Test func aRequestInFlightFinishesOnTheConfigurationItStartedOn() async throws {
        try await Self.withReloadable({ Self.yaml($0, $1, routes: Self.toA) }) { proxy, file, a, b in
            let slow = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            async let answer = slow.get("/slow?ms=1500")
            // Reload once backend a has the request: the route now points at cluster b.
            #expect(await eventually { a.requestCount >= 1 })
            try Self.write(Self.yaml(a, b, routes: Self.toB), to: file)
            #expect(await proxy.server.reload().result == .applied)
            let fresh = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await fresh.get("/")?.body == "hello from b")
            let finished = try await answer
            #expect(finished?.status == 200 && finished?.body == "slow hello from a")
            await slow.close()
            await fresh.close()
        }
    }

    /// The same bound for a stream of an HTTP/2 connection: the reload reaches the stream.
    @Test func anHTTP2StreamOnARemovedRouteGetsABoundedDrain() async throws {
        let routes = "  - {name: slow, match: {path_prefix: /slow}, cluster: a}\n" + Self.toA
        let h2 = "reload: {drain_timeout: 300ms}"
        let yaml = { (a: TestBackend, b: TestBackend, routes: String) in
            Self.yaml(a, b, routes: routes, extra: h2).replacingOccurrences(of: "port: 0}]", with: "port: 0, http2: {enabled: true}}]")
        }
        try await Self.withReloadable({ yaml($0, $1, routes) }) { proxy, file, a, b in
            let answer = Task { try await Curl.run(["--http2-prior-knowledge", "-i", "\(proxy.url)/slow?ms=20000"]) }
            #expect(await eventually { a.requestCount >= 1 })
            try Self.write(yaml(a, b, Self.toA), to: file)
            let started = NIODeadline.now()
            #expect(await proxy.server.reload().result == .applied)
            let ended = Curl.parse(try await answer.value.stdout)
            #expect(ended.status == 503)
            #expect(ended.body == "route slow was removed by a reload; reload.drain_timeout passed\n")
            #expect(NIODeadline.now() - started < .seconds(15))
        }
    }

    @Test func aRequestOnARemovedRouteGetsABoundedDrain() async throws {
        let routes = "  - {name: slow, match: {path_prefix: /slow}, cluster: a}\n" + Self.toA
        try await Self.withReloadable({ Self.yaml($0, $1, routes: routes, extra: "reload: {drain_timeout: 300ms}") }) { proxy, file, a, b in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            async let answer = client.get("/slow?ms=20000")
            #expect(await eventually { a.requestCount >= 1 })
            try Self.write(Self.yaml(a, b, routes: Self.toA, extra: "reload: {drain_timeout: 300ms}"), to: file)
            let started = NIODeadline.now()
            #expect(await proxy.server.reload().result == .applied)
            let ended = try await answer
            // Ended by the drain (503, connection closed), long before the backend's 20 s.
            #expect(ended?.status == 503)
            #expect(NIODeadline.now() - started < .seconds(15))
            #expect(await eventually { client.isClosed })
            #expect(proxy.errorLog.all.contains { $0.contains("route slow was removed by a reload") })
            // A route the reload kept is not touched: a slow request on it, under way while the
            // reload runs, completes.
            let other = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let before = a.requestCount
            async let kept = other.get("/slow?ms=3000")
            #expect(await eventually { a.requestCount > before })
            try Self.write(Self.yaml(a, b, routes: "  - {name: extra, match: {path_prefix: /extra}, cluster: b}\n" + Self.toA,
                                     extra: "reload: {drain_timeout: 300ms}"), to: file)
            #expect(await proxy.server.reload().result == .applied)
            #expect(try await kept?.body == "slow hello from a")
            await other.close()
        }
    }

    @Test func listenersAreBoundAndDrainedByAReload() async throws {
        try await Self.withReloadable({ Self.yaml($0, $1, routes: Self.toA) }) { proxy, file, a, b in
            let two = """
                listeners: [{name: main, address: 127.0.0.1, port: 0}, {name: second, address: 127.0.0.1, port: 0}]
                """
            let base = Self.yaml(a, b, routes: Self.toA)
            try Self.write(base.replacingOccurrences(of: "listeners: [{name: main, address: 127.0.0.1, port: 0}]", with: two), to: file)
            #expect(await proxy.server.reload().result == .applied)
            let second = try #require(proxy.server.listenerAddresses["second"]?.port)
            let mainPort = try #require(proxy.server.listenerAddresses["main"]?.port)
            #expect(mainPort == proxy.port)  // kept, not rebound
            let client = try await HTTPTestClient.connect(port: second, group: testGroup)
            #expect(try await client.get("/")?.body == "hello from a")
            await client.close()
            try Self.write(base, to: file)
            let removed = await proxy.server.reload()
            #expect(removed.result == .applied && removed.changes.contains("listeners: 0 bound, 1 draining"), "\(removed)")
            #expect(proxy.server.listenerAddresses["second"] == nil)
            // The removed listener stops accepting.
            #expect(await eventually { (try? await Curl.run(["-s", "-o", "/dev/null", "http://127.0.0.1:\(second)/"]).status) != 0 })
        }
    }

    @Test func aListenerThatCannotBindFailsTheReload() async throws {
        try await Self.withReloadable({ Self.yaml($0, $1, routes: Self.toA) }) { proxy, file, a, b in
            // Backend a's port is taken: listening there must fail, and nothing else changes.
            let taken = a.address.split(separator: ":").last!
            let base = Self.yaml(a, b, routes: Self.toB)
            let clash = base.replacingOccurrences(of: "listeners: [{name: main, address: 127.0.0.1, port: 0}]",
                                                  with: "listeners: [{name: main, address: 127.0.0.1, port: 0}, {name: x, address: 127.0.0.1, port: \(taken)}]")
            try Self.write(clash, to: file)
            let outcome = await proxy.server.reload()
            #expect(outcome.result == .failed && (outcome.error ?? "").contains("listeners[1]"), "\(outcome)")
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await client.get("/")?.body == "hello from a")
            await client.close()
        }
    }

    /// Kubernetes updates a mounted ConfigMap by swapping a `..data` symlink; the file's path
    /// stays the same. The watch must see it.
    @Test func theWatchSeesAConfigMapSymlinkSwap() async throws {
        let a = try await TestBackend.start(name: "a", group: testGroup)
        let b = try await TestBackend.start(name: "b", group: testGroup)
        let fm = FileManager.default
        let root = NSTemporaryDirectory() + "sluice-configmap-\(UInt64.random(in: 0...UInt64.max))"
        try fm.createDirectory(atPath: root + "/..2026_12_01_a", withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: root) }
        let watch = "reload: {watch_interval: 50ms}"
        try Self.yaml(a, b, routes: Self.toA, extra: watch).write(toFile: root + "/..2026_12_01_a/sluice.yaml", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/..data", withDestinationPath: "..2026_12_01_a")
        try fm.createSymbolicLink(atPath: root + "/sluice.yaml", withDestinationPath: "..data/sluice.yaml")
        let proxy = try await ProxyHarness.start(file: root + "/sluice.yaml")
        let watcher = ConfigWatch(server: proxy.server)  // its baseline is the file as it is now
        let watching = Task { await watcher.run() }
        // The new version appears beside the old one, then ..data is renamed over: atomic.
        try fm.createDirectory(atPath: root + "/..2026_12_01_b", withIntermediateDirectories: true)
        try Self.yaml(a, b, routes: Self.toB, extra: watch).write(toFile: root + "/..2026_12_01_b/sluice.yaml", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/..data_tmp", withDestinationPath: "..2026_12_01_b")
        #expect(rename(root + "/..data_tmp", root + "/..data") == 0)
        #expect(await eventually(within: 20) { proxy.server.snapshot.generation == 2 })
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        #expect(try await client.get("/")?.body == "hello from b")
        await client.close()
        watching.cancel()
        _ = await watching.value
        await proxy.stop()
        await a.stop()
        await b.stop()
    }
}

/// `POST /reload` on the admin listener, with and without the token.
@Suite struct AdminReloadTests {
    @Test func postReloadAppliesOrRefusesAndNeedsTheToken() async throws {
        let token = "admin: {port: 0, token: reload-token}"
        try await ReloadTests.withReloadable({ ReloadTests.yaml($0, $1, routes: ReloadTests.toA).replacingOccurrences(of: "admin: {port: 0}", with: token) }) { proxy, file, a, b in
            #expect(try await AdminTests.admin(proxy, "/reload", method: "POST").status == 401)
            #expect(try await AdminTests.admin(proxy, "/reload", token: "reload-token").status == 405)
            try ReloadTests.write(ReloadTests.yaml(a, b, routes: ReloadTests.toB).replacingOccurrences(of: "admin: {port: 0}", with: token), to: file)
            let applied = try await AdminTests.admin(proxy, "/reload", token: "reload-token", method: "POST")
            #expect(applied.status == 200 && applied.headers["content-type"] == "application/json")
            #expect(applied.body.hasPrefix("{\"result\":\"applied\",\"generation\":2,\"changes\":[\"routes: changed all\"]"), "\(applied.body)")
            #expect(try await Curl.run(["-s", proxy.url + "/"]).stdout == "hello from b")
            let status = try await AdminTests.admin(proxy, "/status", token: "reload-token")
            #expect(status.body.contains("\"generation\":2,\"last_reload\":{\"result\":\"applied\""), "\(status.body)")

            try ReloadTests.write("routes: [{cluster: nope}]\n", to: file)
            let refused = try await AdminTests.admin(proxy, "/reload", token: "reload-token", method: "POST")
            #expect(refused.status == 422 && refused.body.contains("\"result\":\"failed\"") && refused.body.contains("routes[0].cluster"))
            // The new token applies live (the old one stops working).
            try ReloadTests.write(ReloadTests.yaml(a, b, routes: ReloadTests.toB).replacingOccurrences(of: "admin: {port: 0}", with: "admin: {port: 0, token: rotated}"), to: file)
            #expect(try await AdminTests.admin(proxy, "/reload", token: "reload-token", method: "POST").status == 200)
            #expect(try await AdminTests.admin(proxy, "/status", token: "reload-token").status == 401)
            #expect(try await AdminTests.admin(proxy, "/status", token: "rotated").status == 200)
        }
    }
}

/// What a reload keeps: an unchanged rate-limit policy keeps its buckets (a reload is no way
/// around a limit), an unchanged objective its windows, and a drain set by the admin API stays.
@Suite struct ReloadCarryOverTests {
    @Test func unchangedPoliciesObjectivesAndAdminDrainsCarryOver() async throws {
        let routes = """
              - {name: limited, match: {path_prefix: /limited}, cluster: a, rate_limits: [two], slo: {availability: 99}}
            \(ReloadTests.toA)
            """
        let limits = "rate_limits: [{name: two, tiers: [{limit: 2, window: 1h}]}]"
        try await ReloadTests.withReloadable({ ReloadTests.yaml($0, $1, routes: routes, extra: limits) }) { proxy, file, a, b in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await client.get("/limited")?.status == 200)
            #expect(try await client.get("/limited")?.status == 200)
            let policy = proxy.server.runtime.generation.limiter.policies["two"]
            let objectives = proxy.server.runtime.generation.slo.json(now: NIODeadline.now().uptimeNanoseconds)
            #expect(objectives.contains("\"good\":2,\"total\":2"))
            // Drained by an operator through the admin API.
            let backendB = try #require(proxy.server.runtime.health.all.first { $0.name == "b" }?.backends.first)
            backendB.draining.store(true, ordering: .relaxed)
            // Another route added, cluster b's pool changed: policy, objective and drain stay.
            let changed = ReloadTests.yaml(a, b, routes: "  - {name: more, match: {path_prefix: /more}, cluster: b}\n" + routes, extra: limits)
                .replacingOccurrences(of: "- {name: b, backends: [{address: \"\(b.address)\"}]}",
                                      with: "- {name: b, backends: [{address: \"\(b.address)\"}], pool: {max_idle: 3}}")
            try ReloadTests.write(changed, to: file)
            #expect(await proxy.server.reload().result == .applied)
            #expect(proxy.server.runtime.generation.limiter.policies["two"] === policy)
            #expect(try await client.get("/limited")?.status == 429)
            let after = proxy.server.runtime.generation.slo.json(now: NIODeadline.now().uptimeNanoseconds)
            // The objective kept its windows: the 429 since is the third event, not the first.
            #expect(after.contains("\"good\":3,\"total\":3"), "\(after)")
            #expect(proxy.server.runtime.health.all.first { $0.name == "b" }?.backends.first?.draining.load(ordering: .relaxed) == true)
            // A changed policy starts fresh: the new limit applies at once.
            try ReloadTests.write(changed.replacingOccurrences(of: "limit: 2, window: 1h", with: "limit: 5, window: 1h"), to: file)
            #expect(await proxy.server.reload().result == .applied)
            #expect(try await client.get("/limited")?.status == 200)
            await client.close()
        }
    }

    /// Reloads asked for at once run one after another, each seeing the one before.
    @Test func concurrentReloadsRunInOrder() async throws {
        try await ReloadTests.withReloadable({ ReloadTests.yaml($0, $1, routes: ReloadTests.toA) }) { proxy, file, a, b in
            try ReloadTests.write(ReloadTests.yaml(a, b, routes: ReloadTests.toB), to: file)
            async let first = proxy.server.reload()
            async let second = proxy.server.reload()
            let outcomes = await [first, second].map(\.result).sorted { $0.rawValue < $1.rawValue }
            #expect(outcomes == [.applied, .unchanged])
            #expect(proxy.server.snapshot.generation == 2)
            // Once a drain has begun, reloads are refused.
            _ = await proxy.server.drain(timeout: .seconds(2))
            #expect(await proxy.server.reload().result == .stopped)
        }
    }
}

/// What the watch compares: a file's identity through symlinks, not only its time and size.
@Suite struct ConfigWatchSignatureTests {
    @Test func sameSizeAndTimeButAnotherInodeIsAChange() throws {
        let one = try TemporaryFile(contents: "routes: []\n", name: "sluice-sig-a")
        let two = try TemporaryFile(contents: "routes: []\n", name: "sluice-sig-b")
        // Same modification time on both, as a ConfigMap's new file may have.
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: one.path)
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: two.path)
        let a = try #require(ConfigWatch.Signature(path: one.path))
        let b = try #require(ConfigWatch.Signature(path: two.path))
        #expect(a.size == b.size && a.modifiedNanos == b.modifiedNanos)
        #expect(a != b)
        #expect(ConfigWatch.Signature(path: one.path) == a)
        // Through a symlink: the target's identity.
        let link = one.path + ".link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: one.path)
        defer { try? FileManager.default.removeItem(atPath: link) }
        #expect(ConfigWatch.Signature(path: link) == a)
        #expect(ConfigWatch.Signature(path: one.path + ".missing") == nil)
    }
}

/// Settings a connection takes at accept, changed by a reload, reach open connections too.
@Suite struct ReloadConnectionSettingsTests {
    @Test func aPeerTheNewAccessListDeniesIsDisconnected() async throws {
        try await ReloadTests.withReloadable({ ReloadTests.yaml($0, $1, routes: ReloadTests.toA) }) { proxy, file, a, b in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await client.get("/")?.body == "hello from a")
            try ReloadTests.write(ReloadTests.yaml(a, b, routes: ReloadTests.toA, extra: "access: {deny: [127.0.0.0/8]}"), to: file)
            #expect(await proxy.server.reload().result == .applied)
            // The idle keep-alive connection from a now-denied peer is closed, and a new one refused.
            #expect(await eventually { client.isClosed })
            let again = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await again.get("/") == nil)
            #expect(proxy.errorLog.all.contains { $0.hasPrefix("connection closed by reload") && $0.contains("peer in access.deny") })
            await client.close()
            await again.close()
        }
    }

    @Test func changedTimeoutsEndEachConnectionWithItsNextResponse() async throws {
        try await ReloadTests.withReloadable({ ReloadTests.yaml($0, $1, routes: ReloadTests.toA) }) { proxy, file, a, b in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await client.get("/")?.head.headers["connection"].first != "close")
            try ReloadTests.write(ReloadTests.yaml(a, b, routes: ReloadTests.toA, extra: "timeouts: {client_idle: 30s}"), to: file)
            #expect(await proxy.server.reload().result == .applied)
            // Not cut while idle: the next request is answered, with Connection: close.
            let last = try await client.get("/")
            #expect(last?.body == "hello from a" && last?.head.headers["connection"].first == "close")
            #expect(await eventually { client.isClosed })
            await client.close()
        }
    }
}


/// A start that fails halfway (a port in use) releases what it had bound.
@Suite struct FailedStartTests {
    @Test func aServiceWhoseStartFailsClosesWhatItBound() async throws {
        let taken = try await TestBackend.start(group: testGroup)
        var config = SluiceConfig(
            listeners: [ListenerConfig(name: "first", address: "127.0.0.1", port: 0),
                        ListenerConfig(name: "second", address: "127.0.0.1", port: taken.port)],
            clusters: [ClusterConfig(name: "main", backends: [])],
            routes: [RouteConfig(name: "all", cluster: "main")]
        )
        config.admin.enabled = false
        let server = try ProxyServer(snapshot: Snapshot(config: config, source: "<test>"))
        let service = ProxyService(server: server)
        await #expect(throws: (any Error).self) { try await service.run() }
        // Closed: nothing listens any more, and reloads are refused.
        #expect(server.listenerAddresses.isEmpty)
        #expect(await server.reload().result == .stopped)
        await taken.stop()
    }
}
