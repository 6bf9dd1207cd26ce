import Atomics
import Foundation
import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// The issue's own test: reload every 100 ms while clients keep sending, and not one request
/// fails. Bounded in count and time; no timing is asserted.
@Suite struct ReloadUnderLoadTests {
    @Test func reloadingEvery100MillisecondsFailsNoRequest() async throws {
        let a = try await TestBackend.start(name: "a", group: testGroup)
        let b = try await TestBackend.start(name: "b", group: testGroup)
        // Two files that differ in weights, routes, a rate limit and timeouts, alternately.
        let first = ReloadTests.yaml(a, b, routes: ReloadTests.toA)
            .replacingOccurrences(of: "- {name: a, backends: [{address: \"\(a.address)\"}]}",
                                  with: "- {name: a, backends: [{address: \"\(a.address)\"}, {address: \"\(b.address)\"}]}")
        let second = ReloadTests.yaml(a, b, routes: "  - {name: spare, match: {path_prefix: /spare}, cluster: b, rate_limits: [few]}\n"
                                          + ReloadTests.toA,
                                      extra: "rate_limits: [{name: few, tiers: [{limit: 5, window: 1s}]}]\ntimeouts: {upstream_header: 20s}")
            .replacingOccurrences(of: "- {name: a, backends: [{address: \"\(a.address)\"}]}",
                                  with: "- {name: a, backends: [{address: \"\(a.address)\", weight: 3}, {address: \"\(b.address)\"}]}")
        let file = try TemporaryFile(contents: first, name: "sluice-reload-load")
        let proxy = try await ProxyHarness.start(file: file.path)
        let stop = ManagedAtomic(false)
        let served = ManagedAtomic(0)
        let port = proxy.port

        let deadline = NIODeadline.now() + .seconds(120)
        let reloads = Task {
            var applied = 0
            for round in 0..<30 where NIODeadline.now() < deadline {
                try? (round % 2 == 0 ? second : first).write(toFile: file.path, atomically: true, encoding: .utf8)
                if await proxy.server.reload().result == .applied { applied += 1 }
                try? await Task.sleep(nanoseconds: 100_000_000)
                // On a loaded machine 100 ms may pass with no request: each round waits (bounded)
                // for some traffic, so that every reload overlaps requests in flight.
                let before = served.load(ordering: .relaxed)
                _ = await eventually(within: 10) { served.load(ordering: .relaxed) >= before + 2 }
            }
            stop.store(true, ordering: .relaxed)
            return applied
        }
        // Four clients; each opens a fresh connection every 20 requests, so accepts happen on
        // every generation too.
        let results = try await withThrowingTaskGroup(of: (ok: Int, failed: [String]).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var ok = 0, failed: [String] = []
                    var client = try await HTTPTestClient.connect(port: port, group: testGroup)
                    var sent = 0
                    let end = NIODeadline.now() + .seconds(120)
                    while !stop.load(ordering: .relaxed), sent < 50_000, NIODeadline.now() < end {
                        sent += 1
                        let response = try await client.get("/")
                        if let response, response.status == 200, response.body.hasPrefix("hello from") {
                            ok += 1
                            served.wrappingIncrement(ordering: .relaxed)
                        } else {
                            failed.append(response.map { "\($0.status) \($0.body)" } ?? "no response")
                        }
                        // A reload that changes connection settings closes connections after
                        // their request, with Connection: close, as a real client expects.
                        let closing = response?.head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" } ?? true
                        if sent % 20 == 0 || closing || client.isClosed {
                            await client.close()
                            client = try await HTTPTestClient.connect(port: port, group: testGroup)
                        }
                    }
                    await client.close()
                    return (ok, failed)
                }
            }
            var all: [(ok: Int, failed: [String])] = []
            for try await result in group { all.append(result) }
            return all
        }
        let applied = await reloads.value
        let ok = results.map(\.ok).reduce(0, +)
        let failed = results.flatMap(\.failed)
        #expect(applied == 30)
        #expect(ok > 30, "requests served: \(ok)")
        #expect(failed.isEmpty, "\(failed.count) failed, first: \(failed.prefix(3))")
        #expect(proxy.server.snapshot.generation == 31)
        // Nothing left behind: every connection the clients closed is gone from the proxy.
        #expect(await eventually { proxy.server.connectionCount == 0 })
        await proxy.stop()
        await a.stop()
        await b.stop()
    }
}
