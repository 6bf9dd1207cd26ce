import JWTKit
@testable import SluiceJWT
import Testing

@Suite("Authorization header")
struct AuthorizationHeaderTests {
    @Test("No header, an empty one or another scheme is missing; a bare Bearer is invalid")
    func missing() async throws {
        let verifier = try hs256Verifier()
        for header in [nil, "", "   ", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearerx abc", "Token abc"] as [String?] {
            #expect(await verifier.claim(fromAuthorization: header, now: now) == .missing)
            #expect(verifier.cachedClaim(fromAuthorization: header, now: now) == .missing)
        }
        #expect(await verifier.claim(fromAuthorization: "Bearer ", now: now) == .invalid(reason: "empty bearer token"))
        #expect(verifier.cachedClaim(fromAuthorization: "Bearer", now: now) == .invalid(reason: "empty bearer token"))
    }

    @Test("The scheme is case-insensitive and surrounding whitespace is ignored")
    func schemeCase() async throws {
        let verifier = try hs256Verifier()
        let token = try await sign(with: Issuer.hs256())
        for header in ["bearer \(token)", "BEARER \(token)", "  BeArEr \t \(token)  "] {
            #expect(await verifier.claim(fromAuthorization: header, now: now) == .valid(claim: "alice", expiresAt: now + 300))
        }
    }
}

@Suite("Verdict cache")
struct VerdictCacheTests {
    @Test("A verified token is then answered synchronously with the same verdict")
    func cacheHit() async throws {
        let verifier = try hs256Verifier()
        let header = bearer(try await sign(with: Issuer.hs256()))
        #expect(verifier.cachedClaim(fromAuthorization: header, now: now) == nil)
        let verified = await verifier.claim(fromAuthorization: header, now: now)
        #expect(verified == .valid(claim: "alice", expiresAt: now + 300))
        #expect(verifier.cachedClaim(fromAuthorization: header, now: now + 10) == verified)
        // The same token under another spelling of the scheme is the same entry.
        #expect(verifier.cachedClaim(fromAuthorization: "bearer  " + header.dropFirst(7), now: now) == verified)
    }

    @Test("A cached token stops being valid at exp plus leeway, exactly as verification would")
    func cacheRespectsExpiry() async throws {
        let verifier = try hs256Verifier()
        let header = bearer(try await sign(TestClaims(exp: now + 100), with: Issuer.hs256()))
        _ = await verifier.claim(fromAuthorization: header, now: now)
        let deadline = now + 100 + JWTClaimVerifier.defaultLeeway
        #expect(verifier.cachedClaim(fromAuthorization: header, now: deadline - 1) == .valid(claim: "alice", expiresAt: now + 100))
        #expect(verifier.cachedClaim(fromAuthorization: header, now: deadline) == .invalid(reason: "token expired"))
        #expect(await verifier.claim(fromAuthorization: header, now: deadline) == .invalid(reason: "token expired"))
    }

    @Test("A rejected token is remembered for the negative TTL, then verified again")
    func negativeCache() async throws {
        let verifier = try hs256Verifier()
        let header = bearer(try await sign(with: Issuer.hs256("the-wrong-secret-but-just-as-long-0123")))
        let ttl = JWTClaimVerifier.defaultNegativeCacheTTL
        #expect(await verifier.claim(fromAuthorization: header, now: now) == .invalid(reason: "signature does not verify"))
        #expect(verifier.cachedClaim(fromAuthorization: header, now: now + ttl - 0.5) == .invalid(reason: "signature does not verify"))
        #expect(verifier.cachedClaim(fromAuthorization: header, now: now + ttl) == nil)
    }

    @Test("A not-yet-valid token is remembered only until its nbf comes within the leeway")
    func negativeCacheStopsAtNotBefore() async throws {
        let verifier = try hs256Verifier()
        let validFrom = now + 2
        let header = bearer(try await sign(TestClaims(nbf: validFrom + JWTClaimVerifier.defaultLeeway), with: Issuer.hs256()))
        #expect(await verifier.claim(fromAuthorization: header, now: now) == .invalid(reason: "token not yet valid (nbf)"))
        #expect(verifier.cachedClaim(fromAuthorization: header, now: now + 1) == .invalid(reason: "token not yet valid (nbf)"))
        #expect(verifier.cachedClaim(fromAuthorization: header, now: validFrom) == nil)
        #expect(await verifier.claim(fromAuthorization: header, now: validFrom) == .valid(claim: "alice", expiresAt: now + 300))
    }

    @Test("A negative TTL of 0 caches no rejection")
    func negativeCacheOff() async throws {
        let verifier = try JWTClaimVerifier(keys: [JWTKeySpec(algorithm: .hs256, secret: hmacSecret)], negativeCacheTTL: 0)
        let header = bearer(try await sign(with: Issuer.hs256("the-wrong-secret-but-just-as-long-0123")))
        _ = await verifier.claim(fromAuthorization: header, now: now)
        #expect(verifier.cachedClaim(fromAuthorization: header, now: now) == nil)
    }

    @Test("The verifier's cache holds at most its capacity, dropping the oldest")
    func verifierCapacity() async throws {
        let verifier = try JWTClaimVerifier(keys: [JWTKeySpec(algorithm: .hs256, secret: hmacSecret)], cacheCapacity: 2)
        let keys = await Issuer.hs256()
        var headers: [String] = []
        for user in ["u1", "u2", "u3"] {
            let header = bearer(try await sign(TestClaims(sub: user), with: keys))
            _ = await verifier.claim(fromAuthorization: header, now: now)
            headers.append(header)
        }
        #expect(verifier.cachedClaim(fromAuthorization: headers[0], now: now) == nil)
        #expect(verifier.cachedClaim(fromAuthorization: headers[1], now: now) == .valid(claim: "u2", expiresAt: now + 300))
        #expect(verifier.cachedClaim(fromAuthorization: headers[2], now: now) == .valid(claim: "u3", expiresAt: now + 300))
    }

    @Test("TokenCache evicts in insertion order; inserting again makes an entry newest")
    func tokenCacheOrder() {
        var cache = TokenCache<Int>(capacity: 3)
        for (index, token) in ["a", "b", "c"].enumerated() { cache.insert(index, for: token) }
        cache.insert(10, for: "a")
        cache.insert(3, for: "d")
        #expect(cache.entry(for: "b") == nil)
        #expect(cache.entry(for: "a") == 10)
        #expect(cache.entry(for: "c") == 2)
        #expect(cache.entry(for: "d") == 3)
        #expect(cache.count == 3)
    }

    @Test("TokenCache stays within capacity under churn, removals and re-insertions")
    func tokenCacheChurn() {
        var cache = TokenCache<Int>(capacity: 50)
        for round in 0..<20_000 {
            cache.insert(round, for: "t\(round % 173)")
            if round % 7 == 0 { cache.remove("t\((round * 31) % 173)") }
            #expect(cache.count <= 50)
        }
        #expect(cache.entry(for: "t\(19_999 % 173)") == 19_999)
    }
}
