import Testing
@testable import SluiceConfig

/// The balancing and health keys of a cluster, and a route's hedge: read as written, and
/// every mistake named with its key path.
@Suite struct ResilienceConfigTests {
    @Test func readsEveryBalancingAndHealthKey() throws {
        let config = try load("""
        clusters:
          - name: web
            balancer: maglev
            hash: { key: [header:X-User, "cookie:sid", path, query:id, client_ip], maglev_table_size: 251, balance_factor: 0.25, virtual_nodes: 40 }
            backends:
              - { address: "127.0.0.1:1", weight: 2, drain: true }
              - "127.0.0.1:2"
            health_check: { type: tcp, interval: 1s, jitter: 0s, timeout: 500ms, rise: 1, fall: 2, expect_status: 204 }
            outlier_detection: { consecutive_5xx: 0, consecutive_gateway_failures: 3, base_ejection_time: 1s, max_ejection_time: 4s, max_ejection_percent: 50 }
            circuit_breaker: { max_in_flight: 100, max_pending_connects: 10 }
            retries: { max_retries: 1, per_try_timeout: 250ms, on_status: [503], budget_percent: 12.5, budget_min_per_second: 0, replay_buffer: 1KiB }
            slow_start: 30s
            panic_threshold: 0
        routes:
          - cluster: web
            hedge: { delay: p95 }
          - cluster: web
            match: { path_prefix: /x }
            hedge: { delay: 20ms }
        """)
        let web = try #require(config.clusters.first)
        #expect(web.balancer == .maglev)
        #expect(web.hash == HashConfig(key: [.header("X-User"), .cookie("sid"), .path, .query("id"), .clientIP],
                                       virtualNodes: 40, maglevTableSize: 251, balanceFactor: 0.25))
        #expect(web.backends[0] == BackendConfig(host: "127.0.0.1", port: 1, weight: 2, drain: true))
        #expect(web.backends[1].drain == false)
        #expect(web.healthCheck == HealthCheckConfig(kind: .tcp, expectStatus: 204...204, interval: .seconds(1), jitter: .zero,
                                                     timeout: .milliseconds(500), rise: 1, fall: 2))
        #expect(web.outlierDetection == OutlierConfig(consecutive5xx: 0, consecutiveGatewayFailures: 3, baseEjectionTime: .seconds(1),
                                                      maxEjectionTime: .seconds(4), maxEjectionPercent: 50))
        #expect(web.circuitBreaker == CircuitBreakerConfig(maxInFlight: 100, maxPendingConnects: 10))
        #expect(web.retries == RetryConfig(maxRetries: 1, perTryTimeout: .milliseconds(250), onStatus: [503], budgetPercent: 12.5,
                                           budgetMinPerSecond: 0, replayBuffer: 1024))
        #expect(web.slowStart == .seconds(30) && web.panicThreshold == 0)
        #expect(config.routes.map(\.hedge) == [HedgeConfig(delay: .p95), HedgeConfig(delay: .fixed(.milliseconds(20)))])
    }

    @Test func aSingleHashKeyPartNeedsNoList() throws {
        let config = try load("clusters:\n  - { name: web, balancer: consistent_hash, hash: { key: \"header:X-User\" } }\n")
        #expect(config.clusters[0].hash.key == [.header("X-User")])
    }

    @Test func mistakesNameTheirKeyPath() {
        let yaml = """
        clusters:
          - name: web
            hash: { key: [ip, "header:"], maglev_table_size: 1000, balance_factor: -1 }
            backends: ["127.0.0.1:1"]
            health_check: { type: udp, expect_status: 200-100, rise: 0 }
            outlier_detection: { base_ejection_time: 10s, max_ejection_time: 5s }
            retries: { on_status: [404], max_retries: 11 }
            panic_threshold: 101
        routes:
          - cluster: web
            hedge: { delay: soon }
          - cluster: web
            hedge: {}
        """
        #expect(issues(yaml) == [
            #"test.yaml:3: clusters[0].hash.key[0]: unknown hash key part "ip"; expected client_ip, path, header:NAME, cookie:NAME or query:NAME"#,
            #"test.yaml:3: clusters[0].hash.key[1]: hash key part "header:" needs a name after the colon"#,
            "test.yaml:3: clusters[0].hash.maglev_table_size: must be a prime number (e.g. 65537), got 1000",
            "test.yaml:3: clusters[0].hash.balance_factor: must be between 0.0 and 100.0, got -1",
            #"test.yaml:5: clusters[0].health_check.type: unknown health check type "udp"; expected one of http, tcp"#,
            #"test.yaml:5: clusters[0].health_check.expect_status: expected a status or range such as 200 or 200-399, got "200-100""#,
            "test.yaml:5: clusters[0].health_check.rise: must be between 1 and 100, got 0",
            "test.yaml:6: clusters[0].outlier_detection.max_ejection_time: max_ejection_time must not be shorter than base_ejection_time",
            "test.yaml:7: clusters[0].retries.max_retries: must be between 0 and 10, got 11",
            "test.yaml:7: clusters[0].retries.on_status[0]: must be between 500 and 599, got 404",
            "test.yaml:8: clusters[0].panic_threshold: must be between 0 and 100, got 101",
            #"test.yaml:11: routes[0].hedge.delay: expected a duration such as 50ms, or p95, got "soon""#,
            #"test.yaml:13: routes[1].hedge: missing required key "delay""#,
        ])
    }

    @Test func maglevTableMustExceedTheBackendCount() {
        let yaml = """
        clusters:
          - name: web
            hash: { maglev_table_size: 3 }
            backends: ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]
        """
        #expect(issues(yaml) == ["test.yaml:3: clusters[0].hash.maglev_table_size: must be larger than the number of backends (3)"])
    }
}
