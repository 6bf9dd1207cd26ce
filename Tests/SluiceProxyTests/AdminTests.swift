import Foundation
import NIOCore
import SluiceConfig
import SluiceLimits
import Testing
@testable import SluiceProxy

/// The admin listener with curl: health, readiness through a drain, the token, /status, and
/// /metrics with the right labels and values after known traffic.
@Suite struct AdminTests {
    /// Off the cooperative pool: `POST /reload` is answered by a Task, which needs a thread
    /// that a blocking curl call would otherwise hold.
    static func admin(_ proxy: ProxyHarness, _ path: String, token: String? = nil, method: String = "GET") async throws
        -> (status: Int, headers: [String: String], body: String)
    {
        let port = try #require(proxy.server.adminAddress?.port)
        // curl's -X HEAD would wait for the body Content-Length announces; -I does not.
        var arguments = method == "HEAD" ? ["-I", "http://127.0.0.1:\(port)\(path)"] : ["-i", "-X", method, "http://127.0.0.1:\(port)\(path)"]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        return Curl.parse(try await Curl.run(arguments).stdout)
    }

    @Test func healthReadinessAndStatus() async throws {
        try await withProxy { proxy, _ in
            #expect(try await Self.admin(proxy, "/healthz").status == 200)
            #expect(try await Self.admin(proxy, "/readyz") == (200, try await Self.admin(proxy, "/readyz").headers, "ready\n"))
            let status = try await Self.admin(proxy, "/status")
            #expect(status.status == 200 && status.headers["content-type"] == "application/json")
            #expect(status.body.hasPrefix("{\"ready\":true,\"draining\":false,\"uptime_seconds\":"))
            #expect(status.body.contains("\"config_hash\":\"\(ProxyMetrics.configHash(proxy.server.snapshot.config))\""))
            #expect(status.body.contains("\"routes\":1,\"clusters\":1,\"rate_limits\":0"))
            #expect(try await Self.admin(proxy, "/nope").status == 404)
            // Draining: readiness flips so that load balancers stop sending; liveness stays.
            _ = await proxy.server.drain(timeout: .seconds(5))
            let ready = try await Self.admin(proxy, "/readyz")
            #expect(ready.status == 503 && ready.body == "draining\n")
            #expect(try await Self.admin(proxy, "/healthz").status == 200)
        }
    }

    @Test func theTokenGuardsAllButTheProbes() async throws {
        try await withProxy(configure: { $0.admin.token = "s3cret-token" }) { proxy, _ in
            let refused = try await Self.admin(proxy, "/metrics")
            #expect(refused.status == 401 && refused.headers["www-authenticate"] == "Bearer")
            #expect(try await Self.admin(proxy, "/metrics", token: "wrong").status == 401)
            #expect(try await Self.admin(proxy, "/status", token: "s3cret-token-and-more").status == 401)
            #expect(try await Self.admin(proxy, "/metrics", token: "s3cret-token").status == 200)
            #expect(try await Self.admin(proxy, "/status", token: "s3cret-token").status == 200)
            #expect(try await Self.admin(proxy, "/healthz").status == 200)
            #expect(try await Self.admin(proxy, "/readyz").status == 200)
        }
    }

    @Test func metricsCountKnownTraffic() async throws {
        var policy = RateLimitPolicy(name: "two")
        policy.tiers = [LimitTier(limit: 2, window: 60_000_000_000)]
        try await withProxy(configure: { config in
            config.rateLimits = [policy]
            config.routes = [
                RouteConfig(name: "limited", match: RouteMatch(pathPrefix: "/limited"), cluster: "main", rateLimits: ["two"]),
                RouteConfig(name: "all", match: RouteMatch(pathPrefix: "/hello"), cluster: "main"),
            ]
        }) { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            for _ in 0..<3 { #expect(try await client.get("/hello")?.status == 200) }
            for _ in 0..<3 { _ = try await client.get("/limited") }  // 200, 200, 429
            #expect(try await client.get("/nowhere")?.status == 404)
            await client.close()
            let metrics = try await Self.admin(proxy, "/metrics")
            #expect(metrics.status == 200 && metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let lines = Set(metrics.body.split(separator: "\n").map(String.init))
            let expected = [
                "sluice_requests_total{route=\"all\",cluster=\"main\",code=\"2xx\"} 3",
                "sluice_requests_total{route=\"limited\",cluster=\"main\",code=\"2xx\"} 2",
                "sluice_requests_total{route=\"limited\",cluster=\"\",code=\"4xx\"} 1",
                "sluice_requests_total{route=\"\",cluster=\"\",code=\"4xx\"} 1",
                "sluice_request_duration_seconds_count{route=\"all\",cluster=\"main\",code=\"2xx\"} 3",
                "sluice_upstream_response_seconds_count{cluster=\"main\"} 5",
                "sluice_ratelimit_decisions_total{policy=\"two\",result=\"allowed\"} 2",
                "sluice_ratelimit_decisions_total{policy=\"two\",result=\"denied\"} 1",
                "sluice_ratelimit_store_errors_total{policy=\"two\"} 0",
                "sluice_backend_healthy{cluster=\"main\",backend=\"\(backend.address)\"} 1",
                "sluice_backend_in_flight{cluster=\"main\",backend=\"\(backend.address)\"} 0",
                "sluice_backend_ejections_total{cluster=\"main\",backend=\"\(backend.address)\"} 0",
                "sluice_config_info{source=\"<test>\",hash=\"\(ProxyMetrics.configHash(proxy.server.snapshot.config))\"} 1",
                "sluice_response_bytes_total \(5 * "hello from backend".utf8.count)",
            ]
            for line in expected { #expect(lines.contains(line), "missing: \(line)") }
            #expect(lines.contains { $0.hasPrefix("sluice_connections_open ") })
            #expect(lines.contains("sluice_requests_in_flight 0"))
            let types = metrics.body.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
            #expect(types.count == Set(types).count, "a metric family declared twice")
            // HEAD then GET on one connection: HEAD's head carries the length but no body, so
            // the GET's answer follows its head directly.
            let port = try #require(proxy.server.adminAddress?.port)
            let raw = try await RawClient.exchange(port: port, sending: [
                "HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            ], group: testGroup)
            let parts = raw.text.components(separatedBy: "\r\n\r\n")
            #expect(parts.count == 3 && parts[0].hasPrefix("HTTP/1.1 200") && parts[1].hasPrefix("HTTP/1.1 200") && parts[2] == "ok\n",
                    "\(raw.text)")
            #expect(lines.contains("# TYPE sluice_requests_total counter"))
            #expect(lines.contains("# TYPE sluice_request_duration_seconds histogram"))
            #expect(lines.contains("sluice_config_generation 1"))
            #expect(lines.contains("sluice_config_reloads_total{result=\"failed\"} 0"))

            // /stats: the same traffic as totals for the dashboard.
            let stats = try await Self.admin(proxy, "/stats")
            #expect(stats.status == 200 && stats.headers["content-type"] == "application/json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.body.utf8)) as? [String: Any])
            #expect(object["requests"] as? Int == 7)
            #expect(object["status"] as? [String: Int] == ["1xx": 0, "2xx": 5, "3xx": 0, "4xx": 2, "5xx": 0])
            let latency = try #require(object["latency"] as? [String: Any])
            let buckets = try #require(latency["buckets"] as? [[Double]])
            #expect(buckets.count == ProxyMetrics.buckets.count && buckets.last?[0] == 10 && latency["count"] as? Int == 7)
            #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0[1] <= $1[1] }, "cumulative: \(buckets)")
            #expect(object["ratelimit"] as? [String: Int] == ["allowed": 2, "denied": 1, "shadowed": 0, "store_errors": 0])
            #expect(object["bytes_out"] as? Int == 5 * "hello from backend".utf8.count)
            #expect(object["cache"] is NSNull)
            #expect((object["config"] as? [String: Any])?["generation"] as? Int == 1)
        }
    }

    /// The dashboard's files are served without the token (the page carries it to its
    /// fetches), with their types and a policy that allows nothing from elsewhere.
    @Test func theDashboardIsServedWithItsAssets() async throws {
        try await withProxy(configure: { $0.admin.token = "dash" }) { proxy, _ in
            let page = try await Self.admin(proxy, "/dashboard")
            #expect(page.status == 200 && page.headers["content-type"] == "text/html; charset=utf-8")
            #expect(page.body.contains("/dashboard/dashboard.js") && page.body.contains("/dashboard/dashboard.css"))
            #expect(page.headers["content-security-policy"]?.hasPrefix("default-src 'none'; script-src 'self'") == true)
            let script = try await Self.admin(proxy, "/dashboard/dashboard.js")
            #expect(script.status == 200 && script.headers["content-type"] == "text/javascript; charset=utf-8")
            #expect(script.body.contains("/stats") && script.body.contains("/clusters") && script.body.contains("/slo"))
            let style = try await Self.admin(proxy, "/dashboard/dashboard.css")
            #expect(style.status == 200 && style.headers["content-type"] == "text/css; charset=utf-8")
            // The data behind it still needs the token.
            #expect(try await Self.admin(proxy, "/stats").status == 401)
            #expect(try await Self.admin(proxy, "/stats", token: "dash").status == 200)
        }
    }

    @Test func clustersShowTheirBackendsAndABackendCanBeDrainedAndEnabled() async throws {
        let (proxy, backends) = try await BalancingEndToEndTests.cluster(2) { $0.admin.token = "t" }
        let (a, b) = (backends[0].address, backends[1].address)
        let listed = try await Self.admin(proxy, "/clusters", token: "t")
        #expect(listed.status == 200)
        #expect(listed.body.hasPrefix("{\"clusters\":[{\"name\":\"main\",\"balancer\":\"round_robin\",\"backends\":[{\"address\":\"\(a)\""))
        #expect(listed.body.contains("\"weight\":1,\"healthy\":true,\"active_check_passing\":true,\"ejected\":false,\"ejections\":0,\"draining\":false,\"in_flight\":0"))
        #expect(try await Self.admin(proxy, "/clusters/main/backends/\(b)/drain", method: "POST").status == 401)
        #expect(try await Self.admin(proxy, "/clusters/main/backends/\(b)/drain", token: "t").status == 405)
        #expect(try await Self.admin(proxy, "/clusters/nope/backends/\(b)/drain", token: "t", method: "POST").status == 404)
        #expect(try await Self.admin(proxy, "/clusters/main/backends/127.0.0.1:1/drain", token: "t", method: "POST").status == 404)
        let drained = try await Self.admin(proxy, "/clusters/main/backends/\(b.replacingOccurrences(of: ":", with: "%3A"))/drain", token: "t", method: "POST")
        #expect(drained.status == 200 && drained.body == "{\"cluster\":\"main\",\"backend\":\"\(b)\",\"draining\":true}\n")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        var seen: Set<String> = []
        for _ in 0..<6 { seen.insert(try #require(try await client.get("/hello")).body) }
        #expect(seen == ["hello from a"])
        #expect(try await Self.admin(proxy, "/clusters", token: "t").body.contains("\"address\":\"\(b)\",\"weight\":1,\"healthy\":true,\"active_check_passing\":true,\"ejected\":false,\"ejections\":0,\"draining\":true"))
        #expect(try await Self.admin(proxy, "/clusters/main/backends/\(b)/enable", token: "t", method: "POST").status == 200)
        seen = []
        for _ in 0..<6 { seen.insert(try #require(try await client.get("/hello")).body) }
        #expect(seen == ["hello from a", "hello from b"])
        await client.close()
        await BalancingEndToEndTests.stop(proxy, backends)
    }

    @Test func sloReportsTheRoutesObjectivesFromItsTraffic() async throws {
        try await withProxy(configure: { config in
            config.routes[0].slo = RouteSLO(availability: 99, latencyThreshold: .seconds(10), latencyPercent: 90)
        }) { proxy, _ in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            for _ in 0..<8 { #expect(try await client.get("/hello")?.status == 200) }
            await client.close()
            for _ in 0..<2 {  // the backend resets: 502, bad for availability, fast enough for latency
                let broken = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
                #expect(try await broken.get("/reset")?.status == 502)
                await broken.close()
            }
            let report = try await Self.admin(proxy, "/slo")
            #expect(report.status == 200)
            #expect(report.body.hasPrefix("{\"routes\":[{\"route\":\"all\",\"objectives\":[{\"name\":\"availability\",\"target\":0.99,"))
            #expect(report.body.contains("\"allowed_downtime\":\"7.31 h/month, 3.65 d/year\""))
            // 2 bad of 10 against a 1 % budget: a burn of 20 pages on 1h/5m.
            #expect(report.body.contains("\"alert\":\"page\",\"alert_rule\":\"1h/5m\""))
            #expect(report.body.contains("{\"window\":\"5m\",\"good\":8,\"total\":10,"))
            // Latency: all ten finished in well under 10 s.
            #expect(report.body.contains("{\"name\":\"latency\",\"target\":0.9,\"threshold_ms\":10000.0,"))
            #expect(report.body.contains("\"alert\":\"none\",\"alert_rule\":null,\"windows\":[{\"window\":\"5m\",\"good\":10,\"total\":10,"))
        }
    }

    @Test func configIsShownWithSecretsRedacted() async throws {
        var policy = RateLimitPolicy(name: "shared")
        policy.tiers = [LimitTier(limit: 5, window: 1_000_000_000)]
        policy.store = .redis(url: "redis://app:hunter2-redis@127.0.0.1:6379/0")
        try await withProxy(configure: { config in
            config.admin.token = "admin-token-value"
            config.jwt.keys = [JWTConfig.Key(algorithm: "hs256", secret: "jwt-secret-of-at-least-thirty-two-bytes")]
            config.rateLimits = [policy]
        }) { proxy, _ in
            let shown = try await Self.admin(proxy, "/config", token: "admin-token-value")
            #expect(shown.status == 200 && shown.headers["content-type"] == "application/json")
            for secret in ["admin-token-value", "jwt-secret-of-at-least-thirty-two-bytes", "hunter2-redis"] {
                #expect(!shown.body.contains(secret), "\(secret) leaked")
            }
            #expect(shown.body.contains("\"store\":\"redis://app:[redacted]@127.0.0.1:6379/0\""))
            #expect(shown.body.contains("\"secret\":\"[redacted]\""))
            #expect(shown.body.contains("\"token\":\"[redacted]\""))
            #expect(shown.body.contains("\"maxConnections\":10000"))
            #expect(shown.body.contains("\"upstreamConnect\":\"5s\""))
            #expect(ConfigJSON.render(proxy.server.snapshot.config) == shown.body)
            #expect(RedisURL.redacted("redis://only-a-secret@h:1/0") == "redis://[redacted]@h:1/0")
            let object = try JSONSerialization.jsonObject(with: Data(shown.body.utf8)) as? [String: Any]
            #expect((object?["routes"] as? [Any])?.count == 1)
        }
    }
}
