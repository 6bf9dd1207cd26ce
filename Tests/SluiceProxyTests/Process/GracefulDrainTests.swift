import Atomics
import Foundation
import NIOCore
import NIOPosix
import Testing

/// SIGTERM on the real `sluice` process: in-flight requests finish, the listener closes at
/// once, the drain timeout bounds the wait, and idle keep-alive connections do not delay exit.
@Suite struct GracefulDrainTests {

    /// Whether a TCP connect to 127.0.0.1:port succeeds (closed again at once).
    static func canConnect(port: Int) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: testGroup)
                .connectTimeout(.seconds(2))
                .connect(host: "127.0.0.1", port: port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    @Test func inFlightRequestCompletesAndListenerCloses() async throws {
        let backend = try await TestBackend.start(name: "drain-a", group: testGroup)
        defer { Task { await backend.stop() } }
        let sluice = try await SluiceProcess.start(configYAML: SluiceProcess.oneBackendConfig(backend: backend))
        defer { sluice.terminate() }

        #expect(await Self.canConnect(port: sluice.port))
        let client = try await HTTPTestClient.connect(port: sluice.port, group: testGroup)
        let answered = ManagedAtomic(false)
        let inFlight = Task {
            defer { answered.store(true, ordering: .relaxed) }
            return try await client.send([.init(uri: "/slow?ms=10000")], timeout: .seconds(40))
        }
        defer { inFlight.cancel() }
        #expect(await eventually { backend.requestCount == 1 })

        sluice.signal(SIGTERM)
        let signalled = Date()
        // The listener closes as soon as the drain begins, while the request is still in flight
        // (a generous window: a loaded 2-core machine may take seconds to deliver the signal).
        var refused = false
        while !refused, Date().timeIntervalSince(signalled) < 9 {
            refused = await !Self.canConnect(port: sluice.port)
            if !refused { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        let refusedAfter = Date().timeIntervalSince(signalled)
        let answeredBeforeRefused = answered.load(ordering: .relaxed)
        #expect(refused, "new connections still accepted after SIGTERM; stderr: \(sluice.stderrText)")

        let responses = try await inFlight.value
        let finishedAfter = Date().timeIntervalSince(signalled)
        #expect(responses.count == 1)
        #expect(responses.first?.status == 200)
        #expect(responses.first?.body == "slow hello from drain-a")
        // The listener was already closed while the slow request was still running.
        #expect(!answeredBeforeRefused, "refused after \(refusedAfter)s, response after \(finishedAfter)s")
        #expect(await Self.canConnect(port: sluice.port) == false)

        let status = await sluice.exit(within: 10)
        #expect(status == 0, "stderr: \(sluice.stderrText)")
        #expect(!sluice.exitedBySignal)
        #expect(sluice.stderrText.contains("draining"))
        #expect(sluice.stderrText.contains("] drained"))
        #expect(await Self.canConnect(port: sluice.port) == false)
        await client.close()
    }

    @Test func drainTimeoutBoundsTheWait() async throws {
        let backend = try await TestBackend.start(name: "drain-b", group: testGroup)
        defer { Task { await backend.stop() } }
        let sluice = try await SluiceProcess.start(configYAML: SluiceProcess.oneBackendConfig(backend: backend, extra: """
            timeouts:
              drain: 300ms
            """))
        defer { sluice.terminate() }

        let client = try await HTTPTestClient.connect(port: sluice.port, group: testGroup)
        let inFlight = Task { try await client.send([.init(uri: "/slow?ms=30000")], timeout: .seconds(40)) }
        defer { inFlight.cancel() }
        #expect(await eventually { backend.requestCount == 1 })

        let signalled = Date()
        sluice.signal(SIGTERM)
        let status = await sluice.exit(within: 10)
        let exitedAfter = Date().timeIntervalSince(signalled)
        print("sluice exited \(String(describing: status)) \(exitedAfter)s after SIGTERM (drain: 300ms)")
        #expect(status == 0, "exit status \(String(describing: status)) after \(exitedAfter)s; stderr: \(sluice.stderrText)")
        #expect(!sluice.exitedBySignal)
        #expect(sluice.stderrText.contains("drain timed out"), "stderr: \(sluice.stderrText)")

        // The client's connection is closed with no 200 (the backend would answer only at 30s).
        #expect(await eventually(within: 15) { client.isClosed })
        let responses = try await inFlight.value
        #expect(!responses.contains { $0.status == 200 }, "got \(responses.map(\.status))")
        // The request that did not finish in time is answered 503 and logged with its cause.
        #expect(responses.map(\.status) == [503], "got \(responses.map(\.status))")
        #expect(sluice.stderrText.contains("drain timeout: Sluice is shutting down"), "stderr: \(sluice.stderrText)")
        #expect(Date().timeIntervalSince(signalled) < 25, "client saw the close only after the backend's 30s")
        await client.close()
    }

    @Test func idleKeepAliveConnectionDoesNotDelayExit() async throws {
        let backend = try await TestBackend.start(name: "drain-c", group: testGroup)
        defer { Task { await backend.stop() } }
        // Default drain timeout (30s): an idle connection holding the drain would show as a
        // 30s exit, far beyond the bound below.
        let sluice = try await SluiceProcess.start(configYAML: SluiceProcess.oneBackendConfig(backend: backend))
        defer { sluice.terminate() }

        let client = try await HTTPTestClient.connect(port: sluice.port, group: testGroup)
        let response = try await client.get("/hello")
        #expect(response?.status == 200)
        #expect(response?.body == "hello from drain-c")
        #expect(!client.isClosed)

        sluice.signal(SIGTERM)
        // Half the 30s a held drain would take: room for a loaded machine, none for the bug.
        let status = await sluice.exit(within: 15)
        #expect(status == 0, "stderr: \(sluice.stderrText)")
        #expect(!sluice.exitedBySignal)
        #expect(sluice.stderrText.contains("] drained"), "stderr: \(sluice.stderrText)")
        #expect(await eventually(within: 5) { client.isClosed })
        await client.close()
    }
}
