import Atomics
import Foundation
import JWTKit
import NIOCore
import NIOHTTP1
import SluiceConfig
import SluiceLimits
import Testing
@testable import SluiceProxy

/// Local rate limits through a real proxy to a real backend: refusals with their fields,
/// shadow mode, keys, allow lists and verified JWT claims.
@Suite struct RateLimitEndToEndTests {
    static func policy(_ name: String = "per-client", limit: Int, window: UInt64 = 60_000_000_000,
                       _ adjust: (inout RateLimitPolicy) -> Void = { _ in }) -> RateLimitPolicy {
        var policy = RateLimitPolicy(name: name)
        policy.tiers = [LimitTier(limit: limit, window: window)]
        adjust(&policy)
        return policy
    }

    static func limited(_ policies: [RateLimitPolicy], extra: @escaping (inout SluiceConfig) -> Void = { _ in })
        -> (inout SluiceConfig) -> Void
    {
        { config in
            config.rateLimits = policies
            config.routes = [RouteConfig(name: "all", cluster: "main", rateLimits: policies.map(\.name))]
            extra(&config)
        }
    }

    static let secret = "an-hs256-secret-of-at-least-32-bytes!"

    /// HS256 tokens for `subject`, valid for ten minutes, signed as the proxy's jwt key expects.
    static func token(_ subject: String) async throws -> String {
        struct Claims: JWTPayload {
            var sub: SubjectClaim
            var exp: ExpirationClaim
            func verify(using algorithm: some JWTAlgorithm) throws { try exp.verifyNotExpired() }
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(Claims(sub: .init(value: subject), exp: .init(value: Date().addingTimeInterval(600))))
    }

    static func verifiesTokens(_ config: inout SluiceConfig) {
        config.jwt.keys = [JWTConfig.Key(algorithm: "hs256", secret: secret)]
        config.jwt.timeout = .seconds(30)  // verification runs on the cooperative pool, which a loaded test run starves
    }

    static func remaining(_ field: String?) -> Int? {
        guard let field, let r = field.split(separator: ";").first(where: { $0.hasPrefix("r=") }) else { return nil }
        return Int(r.dropFirst(2))
    }

    @Test func refusesPastTheLimitWithRetryAfterAndRateLimitFields() async throws {
        try await withProxy(configure: Self.limited([Self.policy(limit: 3)])) { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            var remaining: [Int?] = []
            for _ in 0..<3 {
                let response = try #require(try await client.get("/hello"))
                #expect(response.status == 200)
                #expect(response.head.headers.first(name: "RateLimit-Policy") == "\"per-client-1m\";q=3;w=60")
                remaining.append(Self.remaining(response.head.headers.first(name: "RateLimit")))
            }
            #expect(remaining == [2, 1, 0])
            // Refused on the same keep-alive connection, which stays usable.
            for _ in 0..<2 {
                let refused = try #require(try await client.get("/hello"))
                #expect(refused.status == 429)
                #expect(refused.body == "rate limit exceeded\n")
                let retryAfter = try #require(refused.head.headers.first(name: "Retry-After").flatMap { Int($0) })
                #expect((1...20).contains(retryAfter))  // one token of 3 per minute returns in 20 s
                #expect(refused.head.headers.first(name: "RateLimit-Policy") == "\"per-client-1m\";q=3;w=60")
                #expect(Self.remaining(refused.head.headers.first(name: "RateLimit")) == 0)
                #expect(refused.head.headers.first(name: "Connection") != "close")
            }
            #expect(backend.requestCount == 3)
            #expect(proxy.accessLog.all.contains { $0.contains("429") && $0.contains("rate limit per-client") })
            let counters = try #require(proxy.server.runtime.generation.limiter.policies["per-client"]?.counters)
            #expect(counters.allowed.load(ordering: .relaxed) == 3)
            #expect(counters.denied.load(ordering: .relaxed) == 2)
            await client.close()
        }
    }

    @Test func statusAndBodyAreConfigurableAndHeadersOptional() async throws {
        let policy = Self.policy(limit: 1) { $0.status = 503; $0.body = "busy"; $0.responseHeaders = false }
        try await withProxy(configure: Self.limited([policy])) { proxy, _ in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let allowed = try #require(try await client.get("/hello"))
            #expect(allowed.status == 200 && allowed.head.headers.first(name: "RateLimit") == nil)
            let refused = try #require(try await client.get("/hello"))
            #expect(refused.status == 503 && refused.body == "busy\n")
            #expect(refused.head.headers[canonicalForm: "Retry-After"].count == 1)  // the policy's, not a second default
            #expect(refused.head.headers.first(name: "RateLimit") != nil)
            await client.close()
        }
    }

    @Test func shadowModeCountsAndLogsButNeverRefuses() async throws {
        try await withProxy(configure: Self.limited([Self.policy(limit: 1) { $0.shadow = true }])) { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            for _ in 0..<3 {
                let response = try #require(try await client.get("/hello"))
                #expect(response.status == 200)
                #expect(response.head.headers.first(name: "RateLimit") == nil)
            }
            #expect(backend.requestCount == 3)
            let counters = try #require(proxy.server.runtime.generation.limiter.policies["per-client"]?.counters)
            #expect(counters.shadowed.load(ordering: .relaxed) == 2)
            #expect(counters.denied.load(ordering: .relaxed) == 0)
            #expect(proxy.errorLog.all.filter { $0.hasPrefix("rate limit would refuse (shadow)") }.count == 2)
            await client.close()
        }
    }

    @Test func headerKeysAreSeparateAndAnAbsentHeaderIsItsOwnKey() async throws {
        let policy = Self.policy(limit: 1) { $0.key = [.header("X-API-Key")] }
        try await withProxy(configure: Self.limited([policy])) { proxy, _ in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            func status(_ key: String?) async throws -> Int? {
                var headers: HTTPHeaders = ["host": "test"]
                if let key { headers.add(name: "X-API-Key", value: key) }
                return try await client.get("/hello", headers: headers)?.status
            }
            #expect(try await status("a") == 200)
            #expect(try await status("a") == 429)
            #expect(try await status("b") == 200)
            #expect(try await status("") == 200)  // empty differs from absent
            #expect(try await status(nil) == 200)
            #expect(try await status(nil) == 429)
            await client.close()
        }
    }

    @Test func allowListedClientsSkipThePolicy() async throws {
        let policy = Self.policy(limit: 1) { $0.allowCIDRs = [CIDR("127.0.0.0/8")!] }
        try await withProxy(configure: Self.limited([policy])) { proxy, _ in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            for _ in 0..<3 { #expect(try await client.get("/hello")?.status == 200) }
            #expect(proxy.server.runtime.generation.limiter.policies["per-client"]?.counters.skipped.load(ordering: .relaxed) == 3)
            await client.close()
        }
    }

    @Test func everyPolicyOfARouteMustPass() async throws {
        // An hour's window: no token comes back during the test, however slow the machine.
        let perClient = Self.policy("per-client", limit: 5, window: 3_600_000_000_000)
        let perRoute = Self.policy("per-route", limit: 2) { $0.key = [.route, .method] }
        try await withProxy(configure: Self.limited([perClient, perRoute])) { proxy, _ in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let first = try #require(try await client.get("/hello"))
            #expect(first.head.headers.first(name: "RateLimit-Policy") == "\"per-client-1h\";q=5;w=3600, \"per-route-1m\";q=2;w=60")
            #expect(first.head.headers.first(name: "RateLimit") == "\"per-client-1h\";r=4;t=720, \"per-route-1m\";r=1;t=30")
            #expect(try await client.get("/hello")?.status == 200)
            let refused = try #require(try await client.get("/hello"))
            #expect(refused.status == 429)
            #expect(refused.head.headers.first(name: "RateLimit-Policy") == "\"per-route-1m\";q=2;w=60")
            // The refusal by per-route gave per-client's token back: 3 of 5 left, not 2.
            let perClient = try #require(proxy.server.runtime.generation.limiter.policies["per-client"]?.local)
            let key = LimitKey.hash([.clientIP], request: LimitKeyTests.request(ip: "127.0.0.1"), ipv6Prefix: 64, regions: nil)
            #expect(perClient.decide(keyHash: key, cost: 0, now: NIODeadline.now().uptimeNanoseconds).remaining(0) == 3)
            await client.close()
        }
    }

    @Test func aVerifiedJWTClaimIsTheKey() async throws {
        let policy = Self.policy(limit: 1) { $0.key = [.jwtClaim("sub")] }
        let (alice, bob) = (try await Self.token("alice"), try await Self.token("bob"))
        try await withProxy(configure: Self.limited([policy], extra: Self.verifiesTokens)) { proxy, _ in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            func status(_ token: String?) async throws -> Int? {
                var headers: HTTPHeaders = ["host": "test"]
                if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
                return try await client.get("/hello", headers: headers)?.status
            }
            #expect(try await status(alice) == 200)
            #expect(try await status(alice) == 429)  // from the verifier's cache, without waiting
            #expect(try await status(bob) == 200)
            // No valid token: one shared key, so forged tokens cannot buy fresh quota.
            #expect(try await status(nil) == 200)
            #expect(try await status(alice + "x") == 429)
            #expect(try await status("not.a.token") == 429)
            await client.close()
        }
    }

    /// A token not yet verified makes its request wait off the event loop: what the client
    /// sends meanwhile (the body, pipelined requests) must arrive intact and in order.
    @Test func aRequestWaitingOnItsTokenKeepsItsBodyAndItsSuccessors() async throws {
        let policy = Self.policy(limit: 100) { $0.key = [.jwtClaim("sub")] }
        try await withProxy(configure: Self.limited([policy], extra: Self.verifiesTokens)) { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            for round in 0..<3 {
                // A new subject each round: never in the verifier's cache.
                let token = try await Self.token("user-\(round)")
                var headers: HTTPHeaders = ["host": "test", "authorization": "Bearer \(token)"]
                let body = (0..<50).map { "chunk \($0) of round \(round);" }
                let sent = body.joined().utf8.count
                headers.add(name: "content-length", value: String(sent))
                let responses = try await client.send([
                    HTTPTestClient.Request(method: .POST, uri: "/sink", headers: headers, body: body),
                    HTTPTestClient.Request(uri: "/hello", headers: ["host": "test", "authorization": "Bearer \(token)"]),
                ])
                #expect(responses.map(\.status) == [200, 200])
                #expect(responses.first?.body == String(sent))
                #expect(responses.last?.body == "hello from backend")
            }
            #expect(backend.requestCount == 6)
            await client.close()
        }
    }
}
