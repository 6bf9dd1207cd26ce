import NIOCore
import SluiceConfig
import Testing
@testable import SluiceProxy

/// Hedging through a real proxy: one backend far slower than the other.
@Suite struct HedgingTests {
    /// A slow and a fast backend behind round robin, the route hedging after `delay`.
    static func slowAndFast(slowMillis: Int64, hedge: HedgeConfig?) async throws -> (ProxyHarness, TestBackend, TestBackend) {
        let slow = try await TestBackend.start(name: "slow", helloDelay: .milliseconds(slowMillis), group: testGroup)
        let fast = try await TestBackend.start(name: "fast", group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [slow.address, fast.address]) { config in
            config.routes[0].hedge = hedge
        }
        return (proxy, slow, fast)
    }

    @Test func theFastBackendAnswersEveryRequestOnceTheHedgeFires() async throws {
        let (proxy, slow, fast) = try await Self.slowAndFast(slowMillis: 5000, hedge: HedgeConfig(delay: .fixed(.milliseconds(50))))
        var bodies: [String] = []
        for _ in 0..<4 { bodies.append(try Curl.run(["\(proxy.url)/hello"]).stdout) }
        // The hedge's pick moves the round-robin cursor too, so every first try meets the slow
        // backend and every hedge the fast one: each request is answered by the hedge.
        #expect(bodies == Array(repeating: "hello from fast", count: 4))
        #expect(slow.requestCount == 4)
        #expect(fast.requestCount == 4)
        let log = proxy.errorLog.all
        #expect(log.filter { $0.hasPrefix("hedge answered first") && $0.contains("winner=\(fast.address)") }.count == 4)
        // The access log names the backend that answered.
        #expect(proxy.accessLog.all.allSatisfy { $0.contains("\"upstream\":\"\(fast.address)\"") })
        await proxy.stop()
        await slow.stop()
        await fast.stop()
    }

    @Test func withoutHedgingTheSlowBackendAnswersItsShare() async throws {
        let (proxy, slow, fast) = try await Self.slowAndFast(slowMillis: 300, hedge: nil)
        var bodies: [String] = []
        for _ in 0..<4 { bodies.append(try Curl.run(["\(proxy.url)/hello"]).stdout) }
        #expect(bodies.filter { $0 == "hello from slow" }.count == 2)
        #expect(!proxy.errorLog.all.contains { $0.hasPrefix("hedging") })
        await proxy.stop()
        await slow.stop()
        await fast.stop()
    }

    @Test func aRequestWithABodyIsNeverHedged() async throws {
        let (proxy, slow, fast) = try await Self.slowAndFast(slowMillis: 300, hedge: HedgeConfig(delay: .fixed(.milliseconds(20))))
        var bodies: [String] = []
        for _ in 0..<2 { bodies.append(try Curl.run(["-X", "PUT", "--data-binary", "x", "\(proxy.url)/hello"]).stdout) }
        #expect(bodies.sorted() == ["hello from fast", "hello from slow"])
        #expect(!proxy.errorLog.all.contains { $0.hasPrefix("hedging") })
        await proxy.stop()
        await slow.stop()
        await fast.stop()
    }

    @Test func theFirstTryWinsWhenItAnswersFirstAndTheHedgeIsCancelled() async throws {
        // Both backends take 400 ms: the first try, sent 100 ms earlier, always answers first.
        let slow = try await TestBackend.start(name: "one", helloDelay: .milliseconds(400), group: testGroup)
        let other = try await TestBackend.start(name: "two", helloDelay: .milliseconds(400), group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [slow.address, other.address]) { config in
            config.routes[0].hedge = HedgeConfig(delay: .fixed(.milliseconds(100)))
        }
        #expect(try Curl.run(["\(proxy.url)/hello"]).stdout == "hello from one")
        let log = proxy.errorLog.all
        #expect(log.contains { $0.hasPrefix("hedging") })
        #expect(!log.contains { $0.hasPrefix("hedge answered first") })
        await proxy.stop()
        await slow.stop()
        await other.stop()
    }

    @Test func aFailedHedgeLeavesTheFirstTryToAnswer() async throws {
        let slow = try await TestBackend.start(name: "slow", helloDelay: .milliseconds(600), group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [slow.address, "127.0.0.1:\(closedPort())"]) { config in
            config.routes[0].hedge = HedgeConfig(delay: .fixed(.milliseconds(50)))
        }
        #expect(try Curl.run(["\(proxy.url)/hello"]).stdout == "hello from slow")
        #expect(proxy.errorLog.all.contains { $0.hasPrefix("hedge could not connect") })
        await proxy.stop()
        await slow.stop()
    }

    @Test func whenTheFirstTryTimesOutTheHedgeIsAwaitedNotRetried() async throws {
        // First try: per-try timeout at 3000 ms. Hedge: sent at 1500 ms, answered at 3500 ms,
        // its own timeout at 4500 ms. So the first try is lost while the hedge is out, with
        // 500 ms and more either side for a loaded machine.
        let stuck = try await TestBackend.start(name: "stuck", helloDelay: .seconds(20), group: testGroup)
        let late = try await TestBackend.start(name: "late", helloDelay: .milliseconds(2000), group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [stuck.address, late.address]) { config in
            config.routes[0].hedge = HedgeConfig(delay: .fixed(.milliseconds(1500)))
            config.clusters[0].retries.perTryTimeout = .milliseconds(3000)
        }
        #expect(try Curl.run(["\(proxy.url)/hello"]).stdout == "hello from late")
        let log = proxy.errorLog.all
        #expect(log.contains { $0.hasPrefix("first try lost, waiting for the hedge") && $0.contains("header timeout") })
        #expect(!log.contains { $0.hasPrefix("retrying on another backend") })
        #expect(log.contains { $0.hasPrefix("hedge answered first") })
        #expect(late.requestCount == 1 && stuck.requestCount == 1)
        await proxy.stop()
        await stuck.stop()
        await late.stop()
    }
}
