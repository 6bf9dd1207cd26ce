import Atomics
import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// Purges by URL, prefix and tag (admin API), the PURGE method, and what /metrics and /stats
/// say of the cache.
@Suite struct CachePurgeTests {
    static func fill(_ client: HTTPTestClient, _ origin: ScriptedOrigin, _ paths: [(String, String)]) async throws {
        for (path, tags) in paths {
            origin.set(path, [("Cache-Control", "max-age=600"), ("Surrogate-Key", tags)], body: path)
            _ = try await CacheTests.get(client, path)
        }
    }

    static func isHit(_ client: HTTPTestClient, _ path: String) async throws -> Bool {
        try await CacheTests.get(client, path).head.headers.first(name: "cache-status")?.hasPrefix("Sluice; hit") == true
    }

    @Test func theAdminAPIPurgesByURLPrefixAndTag() async throws {
        let (proxy, origin, _) = try await CacheTests.start { $0.admin.token = "secret" }
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        try await Self.fill(client, origin, [("/p/1", "product-1 catalog"), ("/p/2", "product-2 catalog"), ("/static/a.css", "assets"),
                                            ("/static/b.css", "assets"), ("/home", "home")])
        #expect(try await AdminTests.admin(proxy, "/cache/purge?url=http://cache.test/home", method: "POST").status == 401)
        let byURL = try await AdminTests.admin(proxy, "/cache/purge?url=http%3A%2F%2FCACHE.test%2Fhome", token: "secret", method: "POST")
        #expect(byURL.status == 200 && byURL.body == "{\"purged\":1}\n")
        #expect(try await !Self.isHit(client, "/home"))
        let byPrefix = try await AdminTests.admin(proxy, "/cache/purge?prefix=http://cache.test/static/", token: "secret", method: "POST")
        #expect(byPrefix.body == "{\"purged\":2}\n")
        let byTag = try await AdminTests.admin(proxy, "/cache/purge?tag=catalog", token: "secret", method: "POST")
        #expect(byTag.body == "{\"purged\":2}\n")
        #expect(try await !Self.isHit(client, "/p/1"))
        #expect(try await AdminTests.admin(proxy, "/cache/purge?url=a&tag=b", token: "secret", method: "POST").status == 400)
        #expect(try await AdminTests.admin(proxy, "/cache/purge?url=a", token: "secret").status == 405)
        await client.close()
        await CacheTests.stop(proxy, origin)
    }

    @Test(arguments: [false, true]) func thePurgeMethodIsAllowedOnlyFromTheListedPeers(loopbackListed: Bool) async throws {
        let (proxy, origin, _) = try await CacheTests.start { config in
            config.cache.purgeAllow = [CIDR(loopbackListed ? "127.0.0.0/8" : "10.0.0.0/8")!]
        }
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        try await Self.fill(client, origin, [("/thing", "t")])
        let answer = try await CacheTests.get(client, "/thing", method: .RAW(value: "PURGE"))
        if loopbackListed {
            #expect(answer.status == 200 && answer.body == "purged 1\n")
        } else {
            #expect(answer.status == 403)
        }
        #expect(try await Self.isHit(client, "/thing") == !loopbackListed)
        // PURGE is Sluice's: it never reaches the origin.
        #expect(origin.requests.allSatisfy { $0.method == .GET })
        await client.close()
        await CacheTests.stop(proxy, origin)
    }

    @Test func metricsAndStatsCountWhatTheCacheDid() async throws {
        let (proxy, origin, _) = try await CacheTests.start()
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        try await Self.fill(client, origin, [("/m", "m")])
        for _ in 0..<3 { _ = try await CacheTests.get(client, "/m") }
        let metrics = try await AdminTests.admin(proxy, "/metrics").body
        #expect(metrics.contains("sluice_cache_requests_total{result=\"hit\"} 3\n"))
        #expect(metrics.contains("sluice_cache_requests_total{result=\"miss\"} 1\n"))
        #expect(metrics.contains("sluice_cache_stores_total 1\n"))
        #expect(metrics.contains("sluice_cache_objects 1\n"))
        let stats = try await AdminTests.admin(proxy, "/stats").body
        #expect(stats.contains("\"cache\":{\"hits\":3,\"misses\":1,\"stale\":0,\"revalidated\":0,\"entries\":1,"))
        await client.close()
        await CacheTests.stop(proxy, origin)
    }
}
