import Atomics
import Foundation
import NIOCore
import NIOHTTP1
import SluiceConfig
import SluiceLimits
import SluiceTestSupport
import Testing
@testable import SluiceProxy

/// Policies shared through a real redis-server: several Sluice instances keep one limit
/// within the stated bound, and Redis going away gives the configured behaviour, without
/// requests waiting past `store_timeout`, until it comes back.
@Suite(.serialized) struct GlobalRateLimitTests {
    static func policy(_ name: String, redis: RedisServerProcess, limit: Int, lease: Int,
                       _ adjust: (inout RateLimitPolicy) -> Void = { _ in }) -> RateLimitPolicy {
        var policy = RateLimitPolicy(name: name)
        policy.tiers = [LimitTier(limit: limit, window: 60_000_000_000)]
        policy.store = .redis(url: redis.url)
        policy.leaseSize = lease
        // Generous for a loaded test machine; the default is 50ms.
        policy.storeTimeout = .seconds(1)
        adjust(&policy)
        return policy
    }

    @Test func threeInstancesAdmitTheLimitWithinTheLeaseBound() async throws {
        let redis = try await RedisServerProcess.start()
        defer { redis.kill() }
        let (limit, lease) = (30, 5)
        let policy = Self.policy("shared", redis: redis, limit: limit, lease: lease)
        let backend = try await TestBackend.start(group: testGroup)
        var proxies: [ProxyHarness] = []
        for _ in 0..<3 {
            proxies.append(try await ProxyHarness.start(backends: [backend.address]) { config in
                config.rateLimits = [policy]
                config.routes = [RouteConfig(name: "all", cluster: "main", rateLimits: ["shared"])]
            })
        }
        var clients: [HTTPTestClient] = []
        for proxy in proxies { clients.append(try await HTTPTestClient.connect(port: proxy.port, group: testGroup)) }
        let started = Date()
        var admitted = [0, 0, 0]
        var other: [Int] = []
        for round in 0..<40 {
            for (index, client) in clients.enumerated() {
                let status = try #require(try await client.get("/hello?round=\(round)")?.status)
                if status == 200 { admitted[index] += 1 } else if status != 429 { other.append(status) }
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        // The stated bound: the limit, plus what the bucket refilled meanwhile, plus at most
        // one lease per instance held across the start of the interval (none here).
        let refilled = Int((Double(limit) * elapsed / 60).rounded(.up))
        let total = admitted.reduce(0, +)
        #expect(other.isEmpty)
        #expect(total >= limit, "admitted \(admitted)")
        #expect(total <= limit + refilled + lease * 3, "admitted \(admitted) in \(elapsed) s")
        #expect(admitted.allSatisfy { $0 > 0 }, "every instance got leases: \(admitted)")
        #expect(backend.requestCount == total)
        for client in clients { await client.close() }
        for proxy in proxies { await proxy.stop() }
        await backend.stop()
    }

    @Test func redisDownFollowsOnStoreErrorWithinTheTimeoutAndRecovers() async throws {
        let redis = try await RedisServerProcess.start()
        defer { redis.kill() }
        let deny = Self.policy("deny", redis: redis, limit: 100_000, lease: 4) {
            $0.onStoreError = .deny
            $0.storeTimeout = .milliseconds(200)
        }
        let allow = Self.policy("allow", redis: redis, limit: 100_000, lease: 4) { $0.storeTimeout = .milliseconds(200) }
        try await withProxy(configure: { config in
            config.rateLimits = [deny, allow]
            config.routes = [
                RouteConfig(name: "deny", match: RouteMatch(pathPrefix: "/deny"), cluster: "main", rateLimits: ["deny"]),
                RouteConfig(name: "allow", match: RouteMatch(pathPrefix: "/allow"), cluster: "main", rateLimits: ["allow"]),
            ]
        }) { proxy, _ in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            #expect(try await client.get("/deny")?.status == 200)
            #expect(try await client.get("/allow")?.status == 200)
            redis.kill()
            var denyStatuses: [Int] = [], allowStatuses: [Int] = []
            var slowest = 0.0
            for _ in 0..<12 {
                for path in ["/deny", "/allow"] {
                    let started = Date()
                    let status = try #require(try await client.get(path)?.status)
                    slowest = max(slowest, Date().timeIntervalSince(started))
                    if path == "/deny" { denyStatuses.append(status) } else { allowStatuses.append(status) }
                }
            }
            // The leases held when Redis went away are spent first (3 left of 4), then the
            // configured action applies.
            #expect(denyStatuses.prefix(3).allSatisfy { $0 == 200 })
            // Not over any quota, so not a 429: the store is down (503, Retry-After 1).
            #expect(denyStatuses.suffix(6).allSatisfy { $0 == 503 }, "\(denyStatuses)")
            #expect(allowStatuses.allSatisfy { $0 == 200 })
            // 200 ms store timeout; the slack is for a loaded machine, a hang would be unbounded.
            #expect(slowest < 5, "slowest request \(slowest) s")
            let errors = try #require(proxy.server.runtime.generation.limiter.policies["deny"]?.counters.storeErrors)
            #expect(errors.load(ordering: .relaxed) > 0)
            #expect(proxy.errorLog.all.contains { $0.hasPrefix("rate limit store error") && $0.contains("policy=deny") })

            try await redis.restart()
            var recovered = false
            let end = Date().addingTimeInterval(20)
            while !recovered, Date() < end {
                recovered = try await client.get("/deny")?.status == 200
                if !recovered { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(recovered)
            await client.close()
        }
    }

    /// A frozen Redis (SIGSTOP) answers nothing: every waiting request is let go at
    /// `store_timeout` with on_store_error, and once Redis thaws the limit works again.
    /// Meanwhile many concurrent first requests for one key share fetches, more of them than
    /// one lease holds.
    @Test func waitersShareFetchesAndAFrozenStoreLetsThemGoAtTheTimeout() async throws {
        let redis = try await RedisServerProcess.start()
        defer { redis.resume(); redis.kill() }
        let policy = Self.policy("frozen", redis: redis, limit: 100_000, lease: 3) {
            $0.key = [.header("X-User")]
            $0.storeTimeout = .milliseconds(300)
        }
        try await withProxy(configure: { config in
            config.rateLimits = [policy]
            config.routes = [RouteConfig(name: "all", cluster: "main", rateLimits: ["frozen"])]
        }) { proxy, backend in
            // 12 clients at once on one key with a lease of 3: fetches are joined and repeated.
            let statuses = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
                        defer { Task { await client.close() } }
                        return try await client.get("/hello", headers: ["host": "test", "x-user": "shared"])?.status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.count == 12 && statuses.allSatisfy { $0 == 200 })
            let counters = try #require(proxy.server.runtime.generation.limiter.policies["frozen"]?.counters)
            #expect(counters.storeErrors.load(ordering: .relaxed) == 0)

            redis.pause()
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            for user in 0..<3 {
                let started = Date()
                let status = try await client.get("/hello", headers: ["host": "test", "x-user": "new-\(user)"])?.status
                let waited = Date().timeIntervalSince(started)
                #expect(status == 200)  // on_store_error: allow
                #expect(waited >= 0.25 && waited < 5, "waited \(waited) s for a 300 ms store timeout")
            }
            #expect(counters.storeErrors.load(ordering: .relaxed) >= 3)
            redis.resume()
            var recovered = false
            let end = Date().addingTimeInterval(20)
            while !recovered, Date() < end {
                let before = counters.storeErrors.load(ordering: .relaxed)
                recovered = try await client.get("/hello", headers: ["host": "test", "x-user": "after"])?.status == 200
                    && counters.storeErrors.load(ordering: .relaxed) == before
                if !recovered { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(recovered)
            #expect(backend.requestCount >= 16)
            await client.close()
        }
    }
}
