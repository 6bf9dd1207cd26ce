import Atomics
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceConfig
import Testing
@testable import SluiceProxy

/// Balancing, health and retries through a real proxy to real backends on loopback.
@Suite struct BalancingEndToEndTests {
    /// Starts `count` named backends (a, b, c...) and a proxy over them.
    static func cluster(_ count: Int, configure: (inout SluiceConfig) -> Void = { _ in }) async throws -> (ProxyHarness, [TestBackend]) {
        var backends: [TestBackend] = []
        for index in 0..<count {
            backends.append(try await TestBackend.start(name: String(UnicodeScalar(UInt8(97 + index))), group: testGroup))
        }
        let proxy = try await ProxyHarness.start(backends: backends.map(\.address), configure: configure)
        return (proxy, backends)
    }

    static func stop(_ proxy: ProxyHarness, _ backends: [TestBackend]) async {
        await proxy.stop()
        for backend in backends { await backend.stop() }
    }

    /// Polls `condition` every 20 ms for at most `seconds`.
    @Test func killedBackendIsEjectedAndNoIdempotentRequestFails() async throws {
        let (proxy, backends) = try await Self.cluster(3)
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let killed = backends[1]
        let killedAddress = killed.address
        var statuses: [Int] = []
        var servedAfterKill: Set<String> = []
        for index in 0..<120 {
            if index == 30 { await killed.kill() }
            let response = try #require(try await client.get("/hello"))
            statuses.append(response.status)
            if index >= 30 { servedAfterKill.insert(response.body) }
        }
        // Connect failures are retried on another backend, so not even the requests before
        // the ejection fail; the dead backend is tried at most `consecutive_gateway_failures` times.
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(servedAfterKill == ["hello from a", "hello from c"])
        let errors = proxy.errorLog.all
        #expect(errors.contains { $0.hasPrefix("backend ejected") && $0.contains(killedAddress) })
        let retriesAwayFromDead = errors.filter { $0.hasPrefix("retrying on another backend") && $0.contains("failed=\(killedAddress)") }
        #expect((1...5).contains(retriesAwayFromDead.count))
        try? await client.channel.close()
        await Self.stop(proxy, backends)
    }

    @Test func activeChecksTakeADeadBackendOutAndBringItBack() async throws {
        let (proxy, backends) = try await Self.cluster(2) { config in
            config.clusters[0].healthCheck = HealthCheckConfig(
                path: "/hello", bodyContains: "hello", interval: .milliseconds(50), jitter: .zero, timeout: .milliseconds(500),
                rise: 1, fall: 1)
        }
        let port = backends[1].port
        await backends[1].kill()
        #expect(await eventually { proxy.errorLog.all.contains { $0.hasPrefix("backend failed its health check") } })
        for _ in 0..<6 { #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from a") }
        let revived = try await TestBackend.start(name: "b-again", port: port, group: testGroup)
        #expect(await eventually { proxy.errorLog.all.contains { $0.hasPrefix("backend passed its health check again") } })
        // With rise 1 / fall 1 and 50 ms checks, a loaded machine can fail a check of the
        // revived backend again for a moment: ask until it answers (bounded), as it must.
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        var seen: Set<String> = []
        let end = Date().addingTimeInterval(20)
        while seen.count < 2, Date() < end {
            seen.insert(try #require(try await client.get("/hello")).body)
        }
        await client.close()
        #expect(seen == ["hello from a", "hello from b-again"])
        await Self.stop(proxy, [backends[0], revived])
    }

    @Test func drainingBackendFinishesInFlightAndGetsNothingNew() async throws {
        let (proxy, backends) = try await Self.cluster(2)
        // Round robin sends the first request to a: hold it there, then drain a.
        async let slow = Curl.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(proxy.url)/slow?ms=3000"])
        #expect(await eventually { backends[0].requestCount == 1 })
        let health = proxy.server.runtime.health.health(for: proxy.server.snapshot.config.clusters[0])
        health.backends[0].draining.store(true, ordering: .relaxed)
        for _ in 0..<4 { #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from b") }
        #expect(try await slow.stdout == "200")
        await Self.stop(proxy, backends)
    }

    @Test func drainInConfigAndNothingLeftIs503WithRetryAfter() async throws {
        let (proxy, backends) = try await Self.cluster(1) { config in config.clusters[0].backends[0].drain = true }
        let out = Curl.parse(try await Curl.run(["-i", "\(proxy.url)/hello"]).stdout)
        #expect(out.status == 503)
        #expect(out.headers["retry-after"] == "1")
        #expect(backends[0].requestCount == 0)
        await Self.stop(proxy, backends)
    }

    @Test func retryableStatusGoesToAnotherBackendOnlyForIdempotentRequests() async throws {
        let failing = try await RawBackend.start(
            reply: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", group: testGroup)
        let good = try await TestBackend.start(name: "good", group: testGroup)
        let proxy = try await ProxyHarness.start(backends: ["127.0.0.1:\(failing.localAddress!.port!)", good.address]) { config in
            config.clusters[0].outlierDetection.consecutive5xx = 0  // keep the failing one in rotation
        }
        for _ in 0..<6 { #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from good") }
        // A POST is not idempotent: whichever backend it meets answers it.
        var postStatuses: Set<String> = []
        for _ in 0..<6 {
            postStatuses.insert(try await Curl.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-d", "x", "\(proxy.url)/sink"]).stdout)
        }
        #expect(postStatuses == ["200", "503"])
        await proxy.stop()
        await good.stop()
        try? await failing.close()
    }

    @Test func connectFailureIsRetriedEvenForAPostWithABody() async throws {
        let good = try await TestBackend.start(name: "good", group: testGroup)
        let proxy = try await ProxyHarness.start(backends: ["127.0.0.1:\(closedPort())", good.address])
        for _ in 0..<4 {
            #expect(try await Curl.run(["-s", "-X", "POST", "--data-binary", "0123456789", "\(proxy.url)/sink"]).stdout == "10")
        }
        await proxy.stop()
        await good.stop()
    }

    @Test func hashKeyPinsEachUserToOneBackend() async throws {
        let (proxy, backends) = try await Self.cluster(3) { config in
            config.clusters[0].balancer = .consistentHash
            config.clusters[0].hash.key = [.header("X-User")]
        }
        var byUser: [String: Set<String>] = [:]
        for round in 0..<3 {
            for user in 0..<12 {
                _ = round
                let body = try await Curl.run(["-H", "X-User: user-\(user)", "\(proxy.url)/hello"]).stdout
                byUser["user-\(user)", default: []].insert(body)
            }
        }
        #expect(byUser.values.allSatisfy { $0.count == 1 })
        #expect(Set(byUser.values.flatMap { $0 }).count >= 2)
        await Self.stop(proxy, backends)
    }

    @Test func circuitBreakerCapsInFlightPerBackend() async throws {
        let (proxy, backends) = try await Self.cluster(1) { config in
            config.clusters[0].circuitBreaker.maxInFlight = 1
        }
        // A response that stalls midway holds the only slot for as long as the test wants.
        let held = try await ClientBootstrap(group: testGroup).connect(host: "127.0.0.1", port: proxy.port).get()
        try await held.writeAndFlush(held.allocator.buffer(string: "GET /stall HTTP/1.1\r\nHost: t\r\n\r\n"))
        #expect(await eventually { backends[0].requestCount == 1 })
        let out = Curl.parse(try await Curl.run(["-i", "\(proxy.url)/hello"]).stdout)
        #expect(out.status == 503)
        // The client leaving ends its exchange and frees the slot.
        try await held.close()
        #expect(await eventually {
            (try? await Curl.run(["\(proxy.url)/hello"]).stdout) == "hello from a"
        })
        await Self.stop(proxy, backends)
    }
}
