import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

@Suite struct ForwardingTests {
    @Test func roundRobinSpreadsRequestsAcrossBackends() async throws {
        var backends: [TestBackend] = []
        for i in 1...3 { backends.append(try await TestBackend.start(name: "b\(i)", group: testGroup)) }
        let proxy = try await ProxyHarness.start(backends: backends.map(\.address))
        var seen: [String] = []
        for _ in 0..<6 {
            let out = try await Curl.run(["\(proxy.url)/hello"])
            seen.append(out.stdout)
        }
        #expect(seen == ["hello from b1", "hello from b2", "hello from b3", "hello from b1", "hello from b2", "hello from b3"])
        await proxy.stop()
        for b in backends { await b.stop() }
    }

    @Test func keepAliveReusesOneUpstreamConnection() async throws {
        try await withProxy { proxy, backend in
            // Three client connections, one after the other, twenty requests in all.
            for _ in 0..<3 {
                let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
                for _ in 0..<7 {
                    let response = try await client.get("/hello")
                    #expect(response?.status == 200)
                }
                await client.close()
            }
            #expect(backend.requestCount == 21)
            #expect(backend.connectionsAccepted == 1)
        }
    }

    @Test func keepAliveConnectionIdlePastClientParkServesItsNextRequests() async throws {
        // The parked decoder is rebuilt at the next byte: the same client connection carries on.
        try await withProxy(configure: { $0.timeouts.clientPark = .milliseconds(50) }) { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            for round in 0..<3 {
                let response = try await client.get("/hello?round=\(round)")
                #expect(response?.status == 200)
                try await Task.sleep(for: .milliseconds(250))
            }
            let last = try await client.get("/hello")
            #expect(last?.status == 200)
            await client.close()
            #expect(backend.requestCount == 4)
        }
    }

    @Test func connectionClosedByBackendIsNotReused() async throws {
        try await withProxy { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let first = try await client.get("/close")
            #expect(first?.status == 200)
            #expect(first?.body == "bye\r\n")
            // The upstream said Connection: close; the client connection itself stays open.
            #expect(first?.head.headers["connection"].isEmpty == true)
            let second = try await client.get("/hello")
            #expect(second?.status == 200)
            #expect(backend.connectionsAccepted == 2)
            await client.close()
        }
    }

    @Test func stalePooledConnectionIsRetriedOnceForReplayableRequests() async throws {
        let raw = try await RawBackend.start(reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", staleAfterFirst: true, group: testGroup)
        let proxy = try await ProxyHarness.start(backends: ["127.0.0.1:\(raw.localAddress!.port!)"])
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        // The second GET goes out on the pooled connection, which the backend then closes.
        let responses = try await client.send([.init(uri: "/a")]) + client.send([.init(uri: "/b")])
        #expect(responses.map(\.status) == [200, 200])
        #expect(responses.map(\.body) == ["ok", "ok"])
        // A request with a body is not replayed: it fails as it is.
        let post = try await client.send([.init(method: .POST, uri: "/c", headers: ["host": "t", "content-length": "1"], body: ["x"])])
        #expect(post.map(\.status) == [502])
        await client.close()
        await proxy.stop()
        try? await raw.close()
    }

    @Test func idlePooledConnectionsCloseAfterIdleTimeout() async throws {
        try await withProxy(configure: { config in
            config.clusters[0].pool = PoolConfig(maxIdle: 4, idleTimeout: .milliseconds(200))
        }) { proxy, backend in
            let first = try await Curl.run(["\(proxy.url)/hello"])
            #expect(first.stdout == "hello from backend")
            #expect(await eventually { backend.connectionsOpen == 0 })
            // A new request after the pool let go opens a fresh connection and succeeds.
            let second = try await Curl.run(["\(proxy.url)/hello"])
            #expect(second.stdout == "hello from backend")
            #expect(backend.connectionsAccepted == 2)
        }
    }

    @Test func maxIdleZeroClosesEveryUpstreamConnection() async throws {
        try await withProxy(configure: { config in
            config.clusters[0].pool = PoolConfig(maxIdle: 0)
        }) { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            for _ in 0..<3 { #expect(try await client.get("/hello")?.status == 200) }
            #expect(backend.connectionsAccepted == 3)
            await client.close()
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withProxy { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let responses = try await client.send([
                .init(uri: "/slow?ms=200"),
                .init(uri: "/headers?second"),
                .init(method: .POST, uri: "/sink", headers: ["host": "test", "content-length": "5"], body: ["12345"]),
            ])
            #expect(responses.map(\.status) == [200, 200, 200])
            #expect(responses[0].body == "slow hello from backend")
            #expect(responses[1].body.hasPrefix("GET /headers?second HTTP/1.1"))
            #expect(responses[2].body == "5")
            await client.close()
        }
    }

    @Test func manyPipelinedRequestsMixingProxiedAndLocalAnswers() async throws {
        try await withProxy(configure: { config in
            config.routes[0].match = RouteMatch(pathPrefix: "/headers")
        }) { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            // Every third request has no route (answered by Sluice at once), the rest go upstream.
            let requests = (0..<60).map { i in HTTPTestClient.Request(uri: i % 3 == 2 ? "/none?\(i)" : "/headers?\(i)") }
            let responses = try await client.send(requests, timeout: .seconds(30))
            #expect(responses.count == 60)
            for (i, response) in responses.enumerated() {
                if i % 3 == 2 {
                    #expect(response.status == 404, "request \(i)")
                } else {
                    #expect(response.body.hasPrefix("GET /headers?\(i) HTTP/1.1"), "request \(i) got \(response.body.prefix(30))")
                }
            }
            #expect(!client.isClosed)
            await client.close()
        }
    }

    @Test func chunkedBodiesAndTrailersPassBothWays() async throws {
        try await withProxy { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let echo = try await client.send([
                .init(method: .POST, uri: "/echo", body: ["hello, ", "chunked ", "world"], trailers: ["x-digest": "42"]),
            ]).first
            #expect(echo?.body == "hello, chunked world")
            #expect(echo?.trailers?["x-trailer-x-digest"] == ["42"])
            let download = try await client.get("/trailers")
            #expect(download?.body == "part one,part two")
            #expect(download?.trailers?["x-checksum"] == ["abc123"])
            await client.close()
        }
    }

    @Test func curlChunkedUploadAndDownload() async throws {
        try await withProxy { proxy, backend in
            let file = try TemporaryFile(contents: String(repeating: "abc", count: 50_000))
            let upload = try await Curl.run(["-H", "Transfer-Encoding: chunked", "--data-binary", "@\(file.path)", "\(proxy.url)/sink"])
            #expect(upload.stdout == "150000")
            let download = try await Curl.run(["\(proxy.url)/stream?bytes=300000&chunked=1"])
            #expect(download.stdout.utf8.count == 300_000)
        }
    }
}
