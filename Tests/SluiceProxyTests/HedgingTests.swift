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

    /// Which of two backends had the first try and which the hedge, from the "hedging" line.
    static func firstAndHedge(_ proxy: ProxyHarness, _ x: TestBackend, _ y: TestBackend) -> (TestBackend, TestBackend) {
        let hedgedToY = proxy.errorLog.all.contains { $0.hasPrefix("hedging") && $0.contains("hedge=\(y.address)") }
        return hedgedToY ? (x, y) : (y, x)
    }

    @Test func theFastBackendAnswersEveryRequestOnceTheHedgeFires() async throws {
        // The slow backend holds every answer until the end: only the hedges can answer.
        let slow = try await TestBackend.start(name: "slow", gated: true, group: testGroup)
        let fast = try await TestBackend.start(name: "fast", group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [slow.address, fast.address]) { config in
            config.routes[0].hedge = HedgeConfig(delay: .fixed(.milliseconds(50)))
        }
        var bodies: [String] = []
        for _ in 0..<4 { bodies.append(try await Curl.run(["\(proxy.url)/hello"]).stdout) }
        // The hedge's pick moves the round-robin cursor too, so every first try meets the slow
        // backend and every hedge the fast one: each request is answered by the hedge.
        #expect(bodies == Array(repeating: "hello from fast", count: 4))
        // (The slow backend may not see a first try that was cancelled before it was sent.)
        #expect(proxy.errorLog.all.filter { $0.hasPrefix("hedging") && $0.contains("waiting_on=\(slow.address)") }.count == 4)
        #expect(fast.requestCount == 4)
        let log = proxy.errorLog.all
        #expect(log.filter { $0.hasPrefix("hedge answered first") && $0.contains("winner=\(fast.address)") }.count == 4)
        // The access log names the backend that answered.
        #expect(proxy.accessLog.all.allSatisfy { $0.contains("\"upstream\":\"\(fast.address)\"") })
        slow.release()
        await proxy.stop()
        await slow.stop()
        await fast.stop()
    }

    @Test func withoutHedgingTheSlowBackendAnswersItsShare() async throws {
        let (proxy, slow, fast) = try await Self.slowAndFast(slowMillis: 300, hedge: nil)
        var bodies: [String] = []
        for _ in 0..<4 { bodies.append(try await Curl.run(["\(proxy.url)/hello"]).stdout) }
        #expect(bodies.filter { $0 == "hello from slow" }.count == 2)
        #expect(!proxy.errorLog.all.contains { $0.hasPrefix("hedging") })
        await proxy.stop()
        await slow.stop()
        await fast.stop()
    }

    @Test func aRequestWithABodyIsNeverHedged() async throws {
        let (proxy, slow, fast) = try await Self.slowAndFast(slowMillis: 300, hedge: HedgeConfig(delay: .fixed(.milliseconds(20))))
        var bodies: [String] = []
        for _ in 0..<2 { bodies.append(try await Curl.run(["-X", "PUT", "--data-binary", "x", "\(proxy.url)/hello"]).stdout) }
        #expect(bodies.sorted() == ["hello from fast", "hello from slow"])
        #expect(!proxy.errorLog.all.contains { $0.hasPrefix("hedging") })
        await proxy.stop()
        await slow.stop()
        await fast.stop()
    }

    @Test func theFirstTryWinsWhenItAnswersFirstAndTheHedgeIsCancelled() async throws {
        // Both backends hold their answer; the first try's is released only once the hedge is out.
        let one = try await TestBackend.start(name: "one", gated: true, group: testGroup)
        let two = try await TestBackend.start(name: "two", gated: true, group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [one.address, two.address]) { config in
            config.routes[0].hedge = HedgeConfig(delay: .fixed(.milliseconds(100)))
        }
        async let answer = Curl.run(["\(proxy.url)/hello"])
        #expect(await eventually { one.requestCount + two.requestCount == 2 })
        #expect(proxy.errorLog.all.contains { $0.hasPrefix("hedging") })
        let (first, hedge) = Self.firstAndHedge(proxy, one, two)
        first.release()
        #expect(try await answer.stdout == "hello from \(first.name)")
        #expect(!proxy.errorLog.all.contains { $0.hasPrefix("hedge answered first") })
        // The cancelled hedge's upstream connection is closed, not left waiting.
        #expect(await eventually { hedge.connectionsOpen == 0 })
        hedge.release()
        await proxy.stop()
        await one.stop()
        await two.stop()
    }

    @Test func aFailedHedgeLeavesTheFirstTryToAnswer() async throws {
        let slow = try await TestBackend.start(name: "slow", helloDelay: .milliseconds(600), group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [slow.address, "127.0.0.1:\(closedPort())"]) { config in
            config.routes[0].hedge = HedgeConfig(delay: .fixed(.milliseconds(50)))
        }
        #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from slow")
        #expect(proxy.errorLog.all.contains { $0.hasPrefix("hedge could not connect") })
        await proxy.stop()
        await slow.stop()
    }

    @Test func whenTheFirstTryTimesOutTheHedgeIsAwaitedNotRetried() async throws {
        // The first try never answers and times out at 8 s; the hedge, sent at 4 s, is held until
        // then and released at once: its own timeout (12 s) leaves 4 s for its answer, and it has
        // 8 s to reach its backend at all (a loaded test machine has taken more than 3).
        let a = try await TestBackend.start(name: "a", gated: true, group: testGroup)
        let b = try await TestBackend.start(name: "b", gated: true, group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [a.address, b.address]) { config in
            config.routes[0].hedge = HedgeConfig(delay: .fixed(.milliseconds(4000)))
            config.clusters[0].retries.perTryTimeout = .milliseconds(8000)
        }
        // Released the moment the first try is given up, by whichever backend holds the hedge.
        proxy.errorLog.onLine(prefix: "first try lost, waiting for the hedge") { Self.firstAndHedge(proxy, a, b).1.release() }
        async let answer = Curl.run(["\(proxy.url)/hello"])
        #expect(await eventually(within: 20) { a.requestCount + b.requestCount == 2 })
        let (_, hedge) = Self.firstAndHedge(proxy, a, b)
        let body = try await answer.stdout
        let log = proxy.errorLog.all
        #expect(body == "hello from \(hedge.name)", "log: \(log)")
        #expect(log.contains { $0.hasPrefix("first try lost, waiting for the hedge") && $0.contains("header timeout") })
        #expect(!log.contains { $0.hasPrefix("retrying on another backend") })
        #expect(log.contains { $0.hasPrefix("hedge answered first") })
        #expect(a.requestCount == 1 && b.requestCount == 1)
        a.release()
        b.release()
        await proxy.stop()
        await a.stop()
        await b.stop()
    }
}
