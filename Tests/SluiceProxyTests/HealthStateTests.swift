import Atomics
import Logging
import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// The shared health state across configurations, and how a probe's answer is judged.
@Suite struct HealthStateTests {
    static let a = BackendConfig(host: "127.0.0.1", port: 1)
    static let b = BackendConfig(host: "127.0.0.1", port: 2)

    @Test func anEqualClusterKeepsItsHealthAndAChangedOneKeepsItsBackends() {
        let registry = HealthRegistry(logger: Logger(label: "test"))
        let first = registry.health(for: ClusterConfig(name: "web", backends: [Self.a]))
        first.backends[0].activelyHealthy.store(false, ordering: .relaxed)
        first.backends[0].inFlight.store(3, ordering: .relaxed)
        #expect(registry.health(for: ClusterConfig(name: "web", backends: [Self.a])) === first)
        #expect(first.backends[0].recoveredAt.load(ordering: .relaxed) == 0)

        var drainedB = Self.b
        drainedB.drain = true
        let second = registry.health(for: ClusterConfig(name: "web", backends: [Self.a, drainedB]))
        #expect(second !== first)
        // The kept backend is the same object: its counts and check verdict carry over.
        #expect(second.backends[0] === first.backends[0])
        #expect(second.backends[0].inFlight.load(ordering: .relaxed) == 3)
        #expect(second.backends[0].activelyHealthy.load(ordering: .relaxed) == false)
        // The added one starts slow (slow start counts from its joining) and takes `drain`.
        #expect(second.backends[1].recoveredAt.load(ordering: .relaxed) > 0)
        #expect(second.backends[1].draining.load(ordering: .relaxed) == true)
    }

    @Test func probeVerdictsFollowStatusRangeAndBodyText() {
        let check = HealthCheckConfig(expectStatus: 200...204, bodyContains: "ready")
        func verdict(_ status: HTTPResponseStatus, _ body: String) -> HealthProbe.Verdict {
            HealthProbe.judge(check, head: HTTPResponseHead(version: .http1_1, status: status), body: ByteBuffer(string: body))
        }
        #expect(verdict(.ok, "all ready").passed)
        #expect(verdict(.noContent, "ready").passed)
        #expect(verdict(.partialContent, "ready").reason == "status 206, expected 200-204")
        #expect(verdict(.ok, "starting").reason == #"body does not contain "ready""#)
    }

    @Test func aTCPCheckFailsOnAClosedPortAndLeavesAnOpenOneHealthy() async throws {
        let open = try await TestBackend.start(name: "open", group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [open.address, "127.0.0.1:\(closedPort())"]) { config in
            config.clusters[0].healthCheck = HealthCheckConfig(kind: .tcp, interval: .milliseconds(50), jitter: .zero, rise: 1, fall: 1)
        }
        #expect(await eventually {
            proxy.errorLog.all.contains { $0.hasPrefix("backend failed its health check") && $0.contains("connect failed") }
        })
        // Probes reach the open backend as bare connections.
        #expect(await eventually { open.connectionsAccepted >= 2 })
        let health = proxy.server.runtime.health.health(for: proxy.server.snapshot.config.clusters[0])
        #expect(health.backends[0].activelyHealthy.load(ordering: .relaxed) == true)
        #expect(health.backends[1].activelyHealthy.load(ordering: .relaxed) == false)
        // TCP checks make no HTTP request.
        #expect(open.requestCount == 0)
        await proxy.stop()
        await open.stop()
    }
}
