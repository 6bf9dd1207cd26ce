import Foundation
import NIOCore
import NIOHTTP1
import SluiceTestSupport
import Testing
@testable import SluiceProxy

/// Three real `sluice` processes on loopback with one Redis, as several replicas behind an L4
/// balancer: the same hash key reaches the same backend through each; a global limit holds
/// across them; a cache purge sent to one reaches all (Redis pub/sub); SIGTERM on one loses
/// none of its requests in flight.
@Suite(.serialized) struct ThreeInstancesTests {
    static func config(backends: [TestBackend], origin: ScriptedOrigin, redis: RedisServerProcess) -> String {
        """
        event_loops: 1
        listeners: [{name: main, address: 127.0.0.1, port: 0}]
        admin: {port: 0}
        reload: {watch: false}
        access_log: {enabled: false}
        clusters:
          - name: web
            balancer: consistent_hash
            hash: {key: ["header:X-User"]}
            backends: [\(backends.map { "{address: \"\($0.address)\"}" }.joined(separator: ", "))]
          - name: origin
            backends: ["\(origin.address)"]
        rate_limits:
          - {name: shared, tiers: [{limit: 30, window: 1m}], store: "\(redis.url)/0", lease_size: 5, store_timeout: 2s}
        routes:
          - {name: limited, match: {path_prefix: /limited}, cluster: web, rate_limits: [shared]}
          - {name: cached, match: {path_prefix: /cached}, cluster: origin, cache: {}}
          - {name: all, match: {path_prefix: /}, cluster: web}
        """
    }

    @Test func threeProcessesBehaveAsOne() async throws {
        let redis = try await RedisServerProcess.start()
        defer { redis.kill() }
        var backends: [TestBackend] = []
        for index in 0..<3 { backends.append(try await TestBackend.start(name: "b\(index)", group: testGroup)) }
        let origin = try await ScriptedOrigin.start(group: testGroup)
        origin.set("/cached", [("Cache-Control", "max-age=600")], body: "cached body")
        let yaml = Self.config(backends: backends, origin: origin, redis: redis)
        var instances: [SluiceProcess] = []
        defer { for instance in instances { instance.terminate() } }
        for _ in 0..<3 { instances.append(try await SluiceProcess.start(configYAML: yaml)) }
        var clients: [HTTPTestClient] = []
        for instance in instances { clients.append(try await HTTPTestClient.connect(port: instance.port, group: testGroup)) }

        // 1. Affinity: every instance sends each user to the same backend, and the users spread.
        var chosen: [String: String] = [:]
        for user in 0..<30 {
            var answers: Set<String> = []
            for client in clients {
                let response = try await client.get("/", headers: ["host": "test", "x-user": "user-\(user)"])
                answers.insert(response?.body ?? "no answer")
            }
            #expect(answers.count == 1, "user-\(user) got \(answers)")
            chosen["user-\(user)"] = answers.first
        }
        #expect(Set(chosen.values).count == 3, "30 users over 3 backends: \(Set(chosen.values))")

        // 2. The global limit: 30 a minute across all three, within one lease per instance.
        let started = Date()
        var admitted = [0, 0, 0], other: [Int] = []
        for round in 0..<20 {
            for (index, client) in clients.enumerated() {
                let status = try await client.get("/limited?round=\(round)")?.status ?? 0
                if status == 200 { admitted[index] += 1 } else if status != 429 { other.append(status) }
            }
        }
        let refilled = Int((30 * Date().timeIntervalSince(started) / 60).rounded(.up))
        let total = admitted.reduce(0, +)
        #expect(other.isEmpty, "\(other)")
        #expect(total >= 30 && total <= 30 + refilled + 5 * 3, "admitted \(admitted)")
        #expect(admitted.allSatisfy { $0 > 0 }, "every instance took leases: \(admitted)")

        // 3. A purge sent to one instance's admin API empties all three caches.
        func cacheStatus(_ client: HTTPTestClient) async throws -> String {
            try await client.get("/cached")?.head.headers.first(name: "cache-status") ?? "none"
        }
        for client in clients {
            _ = try await cacheStatus(client)
            #expect(try await cacheStatus(client).hasPrefix("Sluice; hit"))
        }
        #expect(origin.requests(to: "/cached").count == 3)
        // Each instance subscribed at start, seconds ago. A poll that finds a hit tries again; the
        // first miss (the purge arrived) ends the wait, and stores the object anew.
        let admin = try #require(instances[0].adminPort)
        let purge = try await Curl.run(["-s", "-X", "POST", "http://127.0.0.1:\(admin)/cache/purge?url=http://test/cached"])
        #expect(purge.stdout == "{\"purged\":1}\n", "\(purge.stdout) \(purge.stderr)")
        for (index, client) in clients.enumerated() {
            #expect(await eventually { (try? await cacheStatus(client))?.hasPrefix("Sluice; fwd=uri-miss") == true }, "instance \(index)")
        }
        for client in clients { await client.close() }
        await origin.stop()

        // 4. SIGTERM on the third while five slow requests are in flight: all five complete.
        let before = backends.map(\.requestCount).reduce(0, +)
        var slow: [HTTPTestClient] = []
        for _ in 0..<5 { slow.append(try await HTTPTestClient.connect(port: instances[2].port, group: testGroup)) }
        let answers = try await withThrowingTaskGroup(of: HTTPTestClient.Response?.self) { group in
            for (index, client) in slow.enumerated() {
                group.addTask {
                    try await client.get("/slow?ms=1500", headers: ["host": "test", "x-user": "slow-\(index)"])
                }
            }
            #expect(await eventually { backends.map(\.requestCount).reduce(0, +) >= before + 5 })
            instances[2].signal(SIGTERM)
            var all: [HTTPTestClient.Response?] = []
            for try await answer in group { all.append(answer) }
            return all
        }
        #expect(answers.count == 5 && answers.allSatisfy { $0?.status == 200 && $0?.body.hasPrefix("slow hello from b") == true },
                "\(answers.map { $0.map { "\($0.status) \($0.body)" } ?? "none" })")
        #expect(await instances[2].exit(within: 20) == 0)
        // The other two go on serving.
        for instance in instances.prefix(2) {
            #expect(try await Curl.run(["-s", "-H", "X-User: user-1", instance.url + "/"]).stdout == chosen["user-1"])
        }
        for client in slow { await client.close() }
        for backend in backends { await backend.stop() }
    }
}
