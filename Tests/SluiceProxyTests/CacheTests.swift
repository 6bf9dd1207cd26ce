import Atomics
import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// The cache through a real proxy and a real origin, on a clock the tests move.
@Suite struct CacheTests {
    /// One scripted origin behind a proxy whose only route is cached.
    static func start(_ configure: @escaping (inout SluiceConfig) -> Void = { _ in })
        async throws -> (ProxyHarness, ScriptedOrigin, ManualWallClock) {
        let origin = try await ScriptedOrigin.start(group: testGroup)
        let clock = ManualWallClock()
        let proxy = try await ProxyHarness.start(backends: [origin.address], clock: clock) { config in
            config.routes[0].cache = RouteCacheConfig()
            configure(&config)
        }
        return (proxy, origin, clock)
    }

    static func stop(_ proxy: ProxyHarness, _ origin: ScriptedOrigin) async {
        // Every fetch others could wait on has landed: none is left to hold a later request.
        #expect(await eventually { proxy.server.runtime.cache.flights.inFlight == 0 })
        await proxy.stop()
        await origin.stop()
    }

    static func get(_ client: HTTPTestClient, _ uri: String, _ fields: [(String, String)] = [], method: HTTPMethod = .GET)
        async throws -> HTTPTestClient.Response {
        var headers: HTTPHeaders = ["host": "cache.test"]
        headers.add(contentsOf: fields)
        return try #require(try await client.send([.init(method: method, uri: uri, headers: headers)]).first)
    }

    @Test func aFreshResponseIsServedFromTheStoreWithItsAge() async throws {
        let (proxy, origin, clock) = try await Self.start()
        origin.set("/a", [("Cache-Control", "max-age=60")], body: "alpha")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let miss = try await Self.get(client, "/a")
        #expect(miss.body == "alpha")
        #expect(miss.head.headers["cache-status"] == ["Sluice; fwd=uri-miss; fwd-status=200; stored"])
        clock.advance(by: 10)
        let hit = try await Self.get(client, "/a")
        #expect(hit.status == 200 && hit.body == "alpha")
        #expect(hit.head.headers["cache-status"] == ["Sluice; hit; ttl=50"])
        #expect(hit.head.headers["age"] == ["10"])
        #expect(hit.head.headers["content-length"] == ["5"])
        #expect(origin.requests(to: "/a").count == 1)
        // The hit carries this request's id, not the one stored with the response.
        #expect(hit.head.headers["x-request-id"].count == 1 && hit.head.headers["x-request-id"] != miss.head.headers["x-request-id"])
        #expect(proxy.accessLog.all.last?.contains("\"cache\":\"hit\"") == true)
        #expect(proxy.server.runtime.cache.store.counters.hits.load(ordering: .relaxed) == 1)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func whatMayNotBeStoredGoesToTheOriginEveryTime() async throws {
        let (proxy, origin, _) = try await Self.start()
        origin.set("/nostore", [("Cache-Control", "no-store")], body: "n")
        origin.set("/private", [("Cache-Control", "private, max-age=60")], body: "p")
        origin.set("/plain", [], body: "no freshness, no validator")
        origin.set("/star", [("Cache-Control", "max-age=60"), ("Vary", "*")], body: "s")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        for path in ["/nostore", "/private", "/plain", "/star"] {
            let first = try await Self.get(client, path)
            _ = try await Self.get(client, path)
            #expect(origin.requests(to: path).count == 2, "\(path)")
            #expect(first.head.headers.first(name: "cache-status")?.contains("stored") == false, "\(path)")
        }
        // An Authorization request is not stored unless the response says it may be (§3.5).
        origin.set("/auth", [("Cache-Control", "max-age=60")], body: "secret")
        _ = try await Self.get(client, "/auth", [("Authorization", "Bearer x")])
        _ = try await Self.get(client, "/auth", [("Authorization", "Bearer x")])
        #expect(origin.requests(to: "/auth").count == 2)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func aStaleResponseIsRevalidatedAndA304Freshens() async throws {
        let (proxy, origin, clock) = try await Self.start()
        origin.set("/r", [("Cache-Control", "max-age=10"), ("ETag", "\"v1\"")], body: "version one")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        _ = try await Self.get(client, "/r")
        clock.advance(by: 30)
        origin.set("/r", [("Cache-Control", "max-age=100"), ("ETag", "\"v1\"")], body: "version one")
        let revalidated = try await Self.get(client, "/r")
        #expect(revalidated.status == 200 && revalidated.body == "version one")
        #expect(revalidated.head.headers["cache-status"] == ["Sluice; fwd=stale; fwd-status=304; ttl=100"])
        let conditional = try #require(origin.requests(to: "/r").last)
        #expect(conditional.headers["if-none-match"] == ["\"v1\""])
        // The 304's Cache-Control now rules the stored response: fresh for 100 s more.
        clock.advance(by: 50)
        let hit = try await Self.get(client, "/r")
        #expect(hit.head.headers["cache-status"] == ["Sluice; hit; ttl=50"])
        #expect(hit.head.headers["cache-control"] == ["max-age=100"])
        #expect(origin.requests(to: "/r").count == 2)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func aChangedResourceReplacesTheStoredOne() async throws {
        let (proxy, origin, clock) = try await Self.start()
        origin.set("/c", [("Cache-Control", "max-age=10"), ("ETag", "\"v1\"")], body: "one")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        _ = try await Self.get(client, "/c")
        clock.advance(by: 20)
        origin.set("/c", [("Cache-Control", "max-age=10"), ("ETag", "\"v2\"")], body: "two")
        #expect(try await Self.get(client, "/c").body == "two")
        #expect(try await Self.get(client, "/c").body == "two")
        #expect(origin.requests(to: "/c").count == 2)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func varyKeepsOneVariantPerRequestValue() async throws {
        let (proxy, origin, _) = try await Self.start()
        origin.set("/v", [("Cache-Control", "max-age=60"), ("Vary", "Accept-Language")], body: "hello")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let english = try await Self.get(client, "/v", [("Accept-Language", "en")])
        #expect(english.head.headers.first(name: "cache-status")?.hasPrefix("Sluice; fwd=uri-miss") == true)
        let german = try await Self.get(client, "/v", [("Accept-Language", "de")])
        #expect(german.head.headers.first(name: "cache-status")?.hasPrefix("Sluice; fwd=vary-miss") == true)
        #expect(try await Self.get(client, "/v", [("Accept-Language", "en")]).head.headers.first(name: "cache-status")?.hasPrefix("Sluice; hit") == true)
        #expect(try await Self.get(client, "/v", [("Accept-Language", "de")]).head.headers.first(name: "cache-status")?.hasPrefix("Sluice; hit") == true)
        #expect(origin.requests(to: "/v").count == 2)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func headIsAnsweredFromAStoredGetAndAHeadMissFillsTheStore() async throws {
        let (proxy, origin, _) = try await Self.start()
        origin.set("/h", [("Cache-Control", "max-age=60")], body: "twelve bytes")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let miss = try await Self.get(client, "/h", method: .HEAD)
        #expect(miss.status == 200 && miss.body.isEmpty)
        // Asked upstream as GET (nginx's proxy_cache_convert_head), so a GET now hits.
        #expect(origin.requests(to: "/h").map(\.method) == [.GET])
        let get = try await Self.get(client, "/h")
        #expect(get.body == "twelve bytes" && get.head.headers.first(name: "cache-status")?.hasPrefix("Sluice; hit") == true)
        let head = try await Self.get(client, "/h", method: .HEAD)
        #expect(head.body.isEmpty && head.head.headers["content-length"] == ["12"])
        #expect(origin.requests(to: "/h").count == 1)
        // The connection carried all four: no body bytes leaked into it.
        #expect(try await Self.get(client, "/h").body == "twelve bytes")
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func aClientsConditionalIsAnsweredFromAFreshEntry() async throws {
        let (proxy, origin, _) = try await Self.start()
        origin.set("/e", [("Cache-Control", "max-age=60"), ("ETag", "\"abc\"")], body: "entity")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        _ = try await Self.get(client, "/e")
        let notModified = try await Self.get(client, "/e", [("If-None-Match", "W/\"abc\"")])
        #expect(notModified.status == 304 && notModified.body.isEmpty)
        #expect(notModified.head.headers["etag"] == ["\"abc\""])
        let other = try await Self.get(client, "/e", [("If-None-Match", "\"zzz\"")])
        #expect(other.status == 200 && other.body == "entity")
        #expect(origin.requests(to: "/e").count == 1)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func aSingleRangeIsServedAs206AndSeveralPassThrough() async throws {
        let (proxy, origin, _) = try await Self.start()
        origin.set("/range", [("Cache-Control", "max-age=60")], body: "0123456789")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        _ = try await Self.get(client, "/range")
        let partial = try await Self.get(client, "/range", [("Range", "bytes=2-5")])
        #expect(partial.status == 206 && partial.body == "2345")
        #expect(partial.head.headers["content-range"] == ["bytes 2-5/10"])
        let unsatisfiable = try await Self.get(client, "/range", [("Range", "bytes=50-")])
        #expect(unsatisfiable.status == 416 && unsatisfiable.head.headers["content-range"] == ["bytes */10"])
        #expect(origin.requests(to: "/range").count == 1)
        _ = try await Self.get(client, "/range", [("Range", "bytes=0-1,4-5")])
        #expect(origin.requests(to: "/range").count == 2)
        #expect(origin.requests(to: "/range").last?.headers["range"] == ["bytes=0-1,4-5"])
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func onlyIfCachedMissIs504() async throws {
        let (proxy, origin, _) = try await Self.start()
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let refused = try await Self.get(client, "/none", [("Cache-Control", "only-if-cached")])
        #expect(refused.status == 504)
        #expect(origin.requests.isEmpty)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func anUnsafeRequestInvalidatesTheTargetAndItsLocation() async throws {
        let (proxy, origin, _) = try await Self.start()
        origin.set("/item", [("Cache-Control", "max-age=60")], body: "item")
        origin.set("/list", [("Cache-Control", "max-age=60")], body: "list")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        _ = try await Self.get(client, "/item")
        _ = try await Self.get(client, "/list")
        origin.set("/item", [("Location", "/list")], body: "updated")
        let post = try #require(try await client.send([.init(method: .POST, uri: "/item", headers: ["host": "cache.test"], body: ["x"])]).first)
        #expect(post.head.headers["cache-status"] == ["Sluice; fwd=method; fwd-status=200"])
        origin.set("/item", [("Cache-Control", "max-age=60")], body: "item v2")
        #expect(try await Self.get(client, "/item").body == "item v2")
        #expect(origin.requests(to: "/list").count == 1)
        _ = try await Self.get(client, "/list")
        #expect(origin.requests(to: "/list").count == 2)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func aHundredConcurrentMissesForOneKeyCauseOneFetch() async throws {
        // A lock timeout no loaded machine reaches while the hundred requests arrive.
        let (proxy, origin, _) = try await Self.start { $0.cache.lockTimeout = .seconds(60) }
        origin.set("/hot", [("Cache-Control", "max-age=60")], body: "hot object")
        origin.close()
        let clients = try await withThrowingTaskGroup(of: HTTPTestClient.self) { group in
            for _ in 0..<100 { group.addTask { try await HTTPTestClient.connect(port: proxy.port, group: testGroup) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        async let answers = withThrowingTaskGroup(of: HTTPTestClient.Response.self) { group in
            for client in clients { group.addTask { try await Self.get(client, "/hot") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // 99 wait on the first one's fetch, which the origin holds.
        let counters = proxy.server.runtime.cache.store.counters
        #expect(await eventually(within: 30) { counters.collapsed.load(ordering: .relaxed) == 99 && origin.requests.count == 1 })
        origin.open()
        let responses = try await answers
        #expect(responses.map(\.body) == Array(repeating: "hot object", count: 100))
        #expect(responses.filter { $0.head.headers.first(name: "cache-status")?.contains("collapsed") == true }.count == 99)
        #expect(origin.requests(to: "/hot").count == 1)
        for client in clients { await client.close() }
        await Self.stop(proxy, origin)
    }

    @Test func waitersGoUpstreamWhenTheFetchIsNotStorable() async throws {
        let (proxy, origin, _) = try await Self.start { $0.cache.lockTimeout = .seconds(60) }
        origin.set("/private", [("Cache-Control", "private")], body: "mine")
        origin.close()
        let first = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let second = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        async let one = Self.get(first, "/private")
        let counters = proxy.server.runtime.cache.store.counters
        #expect(await eventually { origin.requests.count == 1 })
        async let two = Self.get(second, "/private")
        #expect(await eventually { counters.collapsed.load(ordering: .relaxed) == 1 })
        origin.open()
        #expect(try await one.body == "mine")
        #expect(try await two.body == "mine")
        #expect(origin.requests(to: "/private").count == 2)
        await first.close()
        await second.close()
        await Self.stop(proxy, origin)
    }

    @Test func aWaiterGoesUpstreamItselfOnceTheLockTimeoutPasses() async throws {
        let (proxy, origin, _) = try await Self.start { $0.cache.lockTimeout = .milliseconds(200) }
        origin.set("/held", [("Cache-Control", "max-age=60")], body: "held")
        origin.close()
        let first = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let second = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        async let one = Self.get(first, "/held")
        #expect(await eventually { origin.requests.count == 1 })
        async let two = Self.get(second, "/held")
        // The first fetch is still held: the second request reaches the origin on its own.
        #expect(await eventually { origin.requests.count == 2 })
        origin.open()
        #expect(try await one.body == "held")
        #expect(try await two.body == "held")
        #expect(proxy.server.runtime.cache.store.counters.collapsed.load(ordering: .relaxed) == 1)
        await first.close()
        await second.close()
        await Self.stop(proxy, origin)
    }

    @Test func staleWhileRevalidateServesAtOnceAndRefreshesOnce() async throws {
        let (proxy, origin, clock) = try await Self.start()
        origin.set("/swr", [("Cache-Control", "max-age=10, stale-while-revalidate=60")], body: "old")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        _ = try await Self.get(client, "/swr")
        clock.advance(by: 15)
        origin.set("/swr", [("Cache-Control", "max-age=10, stale-while-revalidate=60")], body: "new")
        origin.close()
        let stale = try await Self.get(client, "/swr")
        #expect(stale.body == "old")
        #expect(stale.head.headers["cache-status"] == ["Sluice; hit; ttl=-5"])
        #expect(try await Self.get(client, "/swr").body == "old")
        // One background fetch for both stale hits; the store has the new body once it lands.
        #expect(await eventually { origin.requests(to: "/swr").count == 2 })
        origin.open()
        let store = proxy.server.runtime.cache.store
        #expect(await eventually { store.variants(of: "http://cache.test/swr").first?.body == ByteBuffer(string: "new") })
        #expect(try await Self.get(client, "/swr").body == "new")
        #expect(origin.requests(to: "/swr").count == 2)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func staleIfErrorStandsInForA5xxAndADeadOrigin() async throws {
        let (proxy, origin, clock) = try await Self.start()
        origin.set("/sie", [("Cache-Control", "max-age=10, stale-if-error=300")], body: "still here")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        _ = try await Self.get(client, "/sie")
        clock.advance(by: 20)
        origin.set("/sie", status: .serviceUnavailable, [], body: "down")
        let stale = try await Self.get(client, "/sie")
        #expect(stale.status == 200 && stale.body == "still here")
        #expect(stale.head.headers["cache-status"] == ["Sluice; fwd=stale; fwd-status=503; ttl=-10"])
        #expect(proxy.accessLog.all.last?.contains("\"cache\":\"stale-if-error\"") == true)
        await origin.stop()
        let noOrigin = try await Self.get(client, "/sie")
        #expect(noOrigin.status == 200 && noOrigin.body == "still here")
        #expect(noOrigin.head.headers["cache-status"] == ["Sluice; fwd=stale; ttl=-10"])
        // Past the window, the failure is the answer.
        clock.advance(by: 400)
        #expect([502, 503].contains(try await Self.get(client, "/sie").status))
        await client.close()
        await proxy.stop()
    }

    @Test func largeAndBrokenResponsesAreNotStored() async throws {
        let (proxy, origin, _) = try await Self.start { $0.cache.maxObjectSize = 1024 }
        origin.set("/big", [("Cache-Control", "max-age=60")], body: String(repeating: "b", count: 2048))
        origin.set("/cut", .init(fields: [("Cache-Control", "max-age=60")], body: String(repeating: "c", count: 100), cutAfter: 10))
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let big = try await Self.get(client, "/big")
        #expect(big.body.count == 2048 && big.head.headers.first(name: "cache-status")?.contains("detail=too-large") == true)
        _ = try await Self.get(client, "/big")
        #expect(origin.requests(to: "/big").count == 2)
        let cutClient = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        _ = try? await cutClient.send([.init(uri: "/cut", headers: ["host": "cache.test"])])
        let again = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        _ = try? await again.send([.init(uri: "/cut", headers: ["host": "cache.test"])])
        #expect(origin.requests(to: "/cut").count == 2)
        #expect(proxy.server.runtime.cache.store.objectCount == 0)
        for c in [client, cutClient, again] { await c.close() }
        await Self.stop(proxy, origin)
    }

    @Test func theMemoryBoundEvictsAndTheKeyRuleIsApplied() async throws {
        let (proxy, origin, _) = try await Self.start { config in
            config.cache.memorySize = 8 * 1024
            config.cache.maxObjectSize = 4 * 1024
            config.cache.eviction = .lru
            config.routes[0].cache?.queryDrop = ["utm_source"]
        }
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        for index in 0..<6 {
            origin.set("/o\(index)", [("Cache-Control", "max-age=600")], body: String(repeating: "x", count: 2000))
            _ = try await Self.get(client, "/o\(index)?utm_source=mail")
        }
        let store = proxy.server.runtime.cache.store
        #expect(store.usedBytes <= 8 * 1024)
        #expect(store.objectCount < 6)
        #expect(store.counters.evictions.load(ordering: .relaxed) == 6 - store.objectCount)
        // The newest is kept, and the dropped parameter does not split the key.
        let hit = try await Self.get(client, "/o5?utm_source=other")
        #expect(hit.head.headers.first(name: "cache-status")?.hasPrefix("Sluice; hit") == true)
        let gone = try await Self.get(client, "/o0")
        #expect(gone.head.headers.first(name: "cache-status")?.hasPrefix("Sluice; fwd=uri-miss") == true)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func theMemoryBoundHoldsUnderChurn() async throws {
        let bound = 64 * 1024
        let (proxy, origin, _) = try await Self.start { config in
            config.cache.memorySize = bound
            config.cache.maxObjectSize = 16 * 1024
        }
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let store = proxy.server.runtime.cache.store
        var highest = 0
        for index in 0..<300 {
            // Sizes from 100 B to 12 KiB, revisiting earlier objects now and then.
            let path = index % 4 == 3 ? "/churn\(index / 2)" : "/churn\(index)"
            origin.set(path, [("Cache-Control", "max-age=600")], body: String(repeating: "c", count: 100 + (index * 7919) % 12_000))
            _ = try await Self.get(client, path)
            highest = max(highest, store.usedBytes)
            #expect(store.usedBytes <= bound, "after \(index + 1) objects: \(store.usedBytes) bytes")
        }
        #expect(store.counters.evictions.load(ordering: .relaxed) > 100)
        #expect(highest > bound / 2)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func aChunkedResponseIsStoredInABufferOfItsOwnSize() async throws {
        let (proxy, origin, _) = try await Self.start()
        origin.set("/chunked", .init(fields: [("Cache-Control", "max-age=60")], body: String(repeating: "j", count: 300), chunked: true))
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        #expect(try await Self.get(client, "/chunked").body.count == 300)
        let stored = try #require(proxy.server.runtime.cache.store.variants(of: "http://cache.test/chunked").first)
        // Copied out of the 16 KiB fill buffer; NIO rounds capacities to a power of two, and
        // the store counts the capacity, not the 300 readable bytes.
        #expect(stored.body.capacity == 512)
        #expect(stored.size >= stored.body.capacity && stored.size < 2048)
        let hit = try await Self.get(client, "/chunked")
        #expect(hit.body.count == 300 && hit.head.headers["content-length"] == ["300"] && hit.head.headers["transfer-encoding"].isEmpty)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func aResponseThatSetsACookieIsNotStored() async throws {
        let (proxy, origin, _) = try await Self.start()
        origin.set("/login", [("Cache-Control", "public, max-age=60"), ("Set-Cookie", "session=alice")], body: "welcome")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let first = try await Self.get(client, "/login")
        #expect(first.head.headers.first(name: "cache-status")?.contains("detail=set-cookie") == true)
        let second = try await Self.get(client, "/login")
        #expect(second.head.headers.first(name: "cache-status")?.hasPrefix("Sluice; hit") == false)
        #expect(origin.requests(to: "/login").count == 2)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func anAbsoluteURIIsRoutedAndCachedByItsOwnAuthority() async throws {
        // Two tenants: an absolute URI naming the victim, sent with the attacker's Host, must
        // reach the victim's origin (RFC 9112 §3.2.2), not store the attacker's body for it.
        let victim = try await ScriptedOrigin.start(group: testGroup)
        let attacker = try await ScriptedOrigin.start(group: testGroup)
        victim.set("/app.js", [("Cache-Control", "max-age=600")], body: "good")
        attacker.set("/app.js", [("Cache-Control", "max-age=600")], body: "evil")
        let proxy = try await ProxyHarness.start(backends: [victim.address]) { config in
            config.clusters.append(ClusterConfig(name: "tenant", backends: [ProxyHarness.backend(attacker.address)]))
            var tenant = RouteConfig(name: "tenant", match: RouteMatch(host: "tenant.test"), cluster: "tenant")
            tenant.cache = RouteCacheConfig()
            config.routes[0].cache = RouteCacheConfig()
            config.routes.insert(tenant, at: 0)
        }
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let crafted = try #require(try await client.send([.init(uri: "http://victim.test/app.js", headers: ["host": "tenant.test"])]).first)
        #expect(crafted.body == "good")
        #expect(attacker.requests.isEmpty)
        #expect(victim.requests.first?.uri == "/app.js" && victim.requests.first?.headers["host"] == ["victim.test"])
        let plain = try #require(try await client.send([.init(uri: "/app.js", headers: ["host": "victim.test"])]).first)
        #expect(plain.body == "good" && plain.head.headers.first(name: "cache-status")?.hasPrefix("Sluice; hit") == true)
        // An authority with userinfo is refused.
        let userinfo = try #require(try await client.send([.init(uri: "http://user@victim.test/app.js", headers: ["host": "victim.test"])]).first)
        #expect(userinfo.status == 400)
        await client.close()
        await proxy.stop()
        await victim.stop()
        await attacker.stop()
    }

    @Test func aHeadMissForAnUnstorableObjectEndsAtItsHead() async throws {
        let (proxy, origin, _) = try await Self.start { $0.cache.maxObjectSize = 1024 }
        origin.set("/iso", [("Cache-Control", "max-age=60")], body: String(repeating: "i", count: 200_000))
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        let head = try await Self.get(client, "/iso", method: .HEAD)
        #expect(head.status == 200 && head.body.isEmpty && head.head.headers["content-length"] == ["200000"])
        #expect(head.head.headers.first(name: "cache-status")?.contains("detail=too-large") == true)
        // The connection goes on: the next request is answered in full.
        #expect(try await Self.get(client, "/iso").body.count == 200_000)
        await client.close()
        await Self.stop(proxy, origin)
    }

    @Test func xCacheIsSentWhenConfigured() async throws {
        let (proxy, origin, _) = try await Self.start { $0.cache.xCache = true }
        origin.set("/x", [("Cache-Control", "max-age=60")], body: "x")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        #expect(try await Self.get(client, "/x").head.headers["x-cache"] == ["MISS"])
        #expect(try await Self.get(client, "/x").head.headers["x-cache"] == ["HIT"])
        await client.close()
        await Self.stop(proxy, origin)
    }
}
