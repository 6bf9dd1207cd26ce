import Foundation
import SluiceLimits
import Testing
@testable import SluiceConfig

/// `rate_limits`, `jwt`, `regions`, `access` and the connection limits: read as written, and
/// every mistake named with its key path.
@Suite struct LimitConfigTests {
    static let cluster = "clusters: [{ name: web, backends: [\"127.0.0.1:1\"] }]\n"

    @Test func readsEveryRateLimitKey() throws {
        let config = try load(Self.cluster + """
        rate_limits:
          - name: api
            algorithm: gcra
            tiers:
              - { limit: 1, window: 1s }
              - { limit: 5, window: 10s, burst: 2 }
              - { limit: 10, window: 1m }
            key: [client_ip, "header:X-API-Key", route, method]
            ipv6_prefix: 56
            store: redis://user:secret@127.0.0.1:6379/2
            lease_size: 5
            store_timeout: 20ms
            on_store_error: deny
            shadow: true
            allow_cidrs: [10.0.0.0/8, "::1"]
            status: 503
            body: slow down
            max_keys: 1000
            response_headers: false
        routes:
          - { cluster: web, rate_limits: [api] }
        limits: { max_connections_per_ip: 20, accept_rate_per_ip: 5, max_requests_per_connection: 0 }
        access: { allow: [127.0.0.0/8], deny: [127.0.0.2] }
        """)
        let policy = try #require(config.rateLimits.first)
        #expect(policy.algorithm == .gcra)
        #expect(policy.tiers == [LimitTier(limit: 1, window: 1_000_000_000), LimitTier(limit: 5, window: 10_000_000_000, burst: 2),
                                 LimitTier(limit: 10, window: 60_000_000_000)])
        #expect(policy.key == [.clientIP, .header("X-API-Key"), .route, .method])
        #expect(policy.ipv6Prefix == 56 && policy.leaseSize == 5 && policy.maxKeys == 1000)
        #expect(policy.store == .redis(url: "redis://user:secret@127.0.0.1:6379/2"))
        #expect(policy.storeTimeout == .milliseconds(20) && policy.onStoreError == .deny && policy.shadow)
        #expect(policy.allowCIDRs.map(\.description) == ["10.0.0.0/8", "::1/128"])
        #expect(policy.status == 503 && policy.body == "slow down" && !policy.responseHeaders)
        #expect(config.routes[0].rateLimits == ["api"])
        #expect(config.limits.maxConnectionsPerIP == 20 && config.limits.acceptRatePerIP == 5)
        #expect(config.limits.maxRequestsPerConnection == 0)
        #expect(config.access.allow.map(\.description) == ["127.0.0.0/8"] && config.access.deny.map(\.description) == ["127.0.0.2/32"])
    }

    @Test func defaultsAreTheDocumentedOnes() throws {
        let config = try load(Self.cluster + "rate_limits: [{ name: a, tiers: [{ limit: 3, window: 1m }], key: route }]\n")
        let policy = try #require(config.rateLimits.first)
        var expected = RateLimitPolicy(name: "a")
        expected.tiers = [LimitTier(limit: 3, window: 60_000_000_000)]
        expected.key = [.route]
        #expect(policy == expected)
        #expect(expected.algorithm == .tokenBucket && expected.store == .local && expected.onStoreError == .allow)
        #expect(expected.maxKeys == 1_000_000 && expected.ipv6Prefix == 64 && expected.status == 429)
        #expect(Limits().maxRequestsPerConnection == 1000 && Limits().maxConnectionsPerIP == 0)
    }

    @Test func mistakesNameTheirKeyPath() {
        let yaml = Self.cluster + """
        rate_limits:
          - name: a
            algorithm: leaky
            tiers: [{ limit: 0, window: 1s }, { window: 2s }]
            key: [cookie:x]
            store: redis://host:99999
            on_store_error: maybe
          - name: a
            tiers: []
          - name: b
        routes:
          - { cluster: web, rate_limits: [a, nope, a] }
        """
        #expect(issues(yaml) == [
            "test.yaml:4: rate_limits[0].algorithm: unknown rate limit algorithm \"leaky\"; expected one of token_bucket, gcra, sliding_window",
            "test.yaml:5: rate_limits[0].tiers[0].limit: must be between 1 and 1000000000, got 0",
            "test.yaml:5: rate_limits[0].tiers[1]: missing required key \"limit\"",
            "test.yaml:6: rate_limits[0].key[0]: unknown rate limit key part \"cookie:x\"; expected client_ip, route, method, region, header:NAME or jwt_claim:NAME",
            "test.yaml:7: rate_limits[0].store: expected local or redis://[user:password@]host:port/db, got \"redis://host:99999\"",
            "test.yaml:8: rate_limits[0].on_store_error: unknown store error action \"maybe\"; expected one of allow, deny",
            "test.yaml:9: rate_limits[1].name: duplicate rate limit name \"a\" (first at rate_limits[0])",
            "test.yaml:10: rate_limits[1].tiers: expected 1 to 4 tiers, got 0",
            "test.yaml:11: rate_limits[2]: missing required key \"tiers\"",
            "test.yaml:13: routes[0].rate_limits[1]: rate limit \"nope\" is not defined (defined: a, b)",
            "test.yaml:13: routes[0].rate_limits[2]: rate limit \"a\" is listed twice",
        ])
    }

    @Test func tiersAreCheckedAgainstTheAlgorithm() {
        let yaml = Self.cluster + """
        rate_limits:
          - name: a
            algorithm: sliding_window
            tiers: [{ limit: 1, window: 1s, burst: 5 }]
        jwt: { keys: [{ algorithm: hs256, secret: short }] }
        """
        #expect(issues(yaml) == [
            "test.yaml:5: rate_limits[0].tiers[0].burst: burst applies to token_bucket and gcra, not sliding_window",
            "test.yaml:6: jwt.keys[0].secret: an hs256 secret must be at least 32 bytes (RFC 7518), got 5",
        ])
    }

    @Test func keyPartsNeedTheirSources() {
        let yaml = Self.cluster + "rate_limits: [{ name: a, tiers: [{ limit: 1, window: 1s }], key: [jwt_claim:sub, region] }]\n"
        #expect(issues(yaml) == [
            "test.yaml:2: rate_limits[0].key: a jwt_claim key part needs keys under jwt.keys",
            "test.yaml:2: rate_limits[0].key: the region key part needs regions.header or regions.table_file",
        ])
    }

    @Test func jwtKeysAndRegionTableAreReadRelativeToTheConfigFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-limit-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".write(to: folder.appendingPathComponent("k.pem"), atomically: true, encoding: .utf8)
        try "# comment\n10.0.0.0/8 inside\n10.1.0.0/16 deeper # the longer prefix\n\n2001:db8::/32 six\n"
            .write(to: folder.appendingPathComponent("regions.txt"), atomically: true, encoding: .utf8)
        let file = folder.appendingPathComponent("sluice.yaml")
        try (Self.cluster + """
        jwt:
          keys:
            - { algorithm: HS256, secret: a-secret-of-at-least-32-bytes-long, kid: one }
            - { algorithm: es256, public_key_file: k.pem }
          issuer: me
          audience: api
          leeway: 0s
          timeout: 250ms
        regions: { header: X-Region, table_file: regions.txt }
        """).write(to: file, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(path: file.path, environment: [:])
        #expect(config.jwt.keys.count == 2)
        #expect(config.jwt.keys[0].algorithm == "hs256" && config.jwt.keys[0].secret == "a-secret-of-at-least-32-bytes-long" && config.jwt.keys[0].kid == "one")
        #expect(config.jwt.keys[1].publicKeyPEM?.hasPrefix("-----BEGIN PUBLIC KEY-----") == true)
        #expect(config.jwt.issuer == "me" && config.jwt.audience == "api" && config.jwt.leeway == .zero && config.jwt.timeout == .milliseconds(250))
        #expect(config.regions.header == "X-Region")
        #expect(config.regions.table.map { "\($0.0) \($0.1)" } == ["2001:db8::/32 six", "10.1.0.0/16 deeper", "10.0.0.0/8 inside"])
    }

    @Test func badReferencedFilesAreNamed() {
        let yaml = Self.cluster + """
        jwt: { keys: [{ algorithm: rs256, public_key_file: /nonexistent/k.pem }, { algorithm: hs256 }] }
        regions: { table_file: /nonexistent/regions.txt }
        """
        let found = issues(yaml)
        #expect(found.count == 3)
        #expect(found[0].hasPrefix("test.yaml:2: jwt.keys[0].public_key_file: cannot read /nonexistent/k.pem"))
        #expect(found[1] == "test.yaml:2: jwt.keys[1]: missing required key \"secret\"")
        #expect(found[2].hasPrefix("test.yaml:3: regions.table_file: cannot read /nonexistent/regions.txt"))
    }

    @Test func regionTableErrorsNameTheLine() {
        #expect(RegionTable.parse("10.0.0.0/8 a\nbogus\n").failureLine == 2)
        #expect(RegionTable.parse("10.0.0.0/33 a\n").failureLine == 1)
        #expect(RegionTable.parse("# only comments\n\n").successCount == 0)
    }

    @Test func adminListener() throws {
        let config = try load("admin: { enabled: false, address: 0.0.0.0, port: 0, token: \"${TOKEN}\" }\n", environment: ["TOKEN": "t0k"])
        #expect(!config.admin.enabled && config.admin.address == "0.0.0.0" && config.admin.port == 0 && config.admin.token == "t0k")
        // An unset variable with an empty default means no token, not an empty one.
        #expect(try load("admin: { token: \"${TOKEN:-}\" }\n").admin.token == nil)
        #expect(AdminConfig().enabled && AdminConfig().address == "127.0.0.1" && AdminConfig().port == 9901)
        #expect(issues("admin: { port: 70000 }\n") == ["test.yaml:1: admin.port: must be between 0 and 65535, got 70000"])
    }

    @Test func routeObjectives() throws {
        let config = try load(Self.cluster + "routes: [{ cluster: web, slo: { availability: 99.95, latency: { threshold: 250ms, percent: 99 } } }]\n")
        #expect(config.routes[0].slo == RouteSLO(availability: 99.95, latencyThreshold: .milliseconds(250), latencyPercent: 99))
        #expect(issues(Self.cluster + "routes: [{ cluster: web, slo: { availability: 100, latency: { percent: 99 } } }]\n") == [
            "test.yaml:2: routes[0].slo.availability: must be a percentage above 0 and below 100, got 100",
            "test.yaml:2: routes[0].slo.latency: missing required key \"threshold\"",
        ])
    }

    @Test func logSection() throws {
        let config = try load("log: { level: debug, format: json }\n")
        #expect(config.log.level == "debug" && config.log.format == .json)
        #expect(issues("log: { level: loud, format: xml }\n") == [
            "test.yaml:1: log.level: unknown log level \"loud\"; expected one of trace, debug, info, notice, warning, error, critical",
            "test.yaml:1: log.format: unknown log format \"xml\"; expected one of text, json",
        ])
    }

    @Test func redisURLShapes() {
        for good in ["redis://127.0.0.1:6379", "redis://127.0.0.1:6379/0", "redis://:pw@h:1/15", "redis://u:p@h:6379/3", "redis://localhost"] {
            #expect(RedisURL.isValid(good), "\(good)")
        }
        for bad in ["http://h:1", "redis://", "redis://h:0", "redis://h:1/16", "redis://h:1/x", "redis://:6379"] {
            #expect(!RedisURL.isValid(bad), "\(bad)")
        }
    }
}

extension Result where Success == [(CIDR, String)], Failure == RegionTable.Failure {
    var failureLine: Int? { if case .failure(let failure) = self { failure.line } else { nil } }
    var successCount: Int? { if case .success(let table) = self { table.count } else { nil } }
}
