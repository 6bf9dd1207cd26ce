import Foundation
import JWTKit
import SluiceJWT
import Testing

@Suite("Signatures and algorithms")
struct SignatureTests {
    @Test("HS256 with the right secret yields the claim and exp")
    func hs256Valid() async throws {
        let token = try await sign(with: Issuer.hs256())
        let verdict = try await hs256Verifier().claim(fromAuthorization: bearer(token), now: now)
        #expect(verdict == .valid(claim: "alice", expiresAt: now + 300))
    }

    @Test("HS256 signed with another secret is invalid")
    func hs256WrongSecret() async throws {
        let token = try await sign(with: Issuer.hs256("some-other-secret-entirely-0123456789"))
        let verdict = try await hs256Verifier().claim(fromAuthorization: bearer(token), now: now)
        #expect(verdict == .invalid(reason: "signature does not verify"))
    }

    @Test("A payload changed after signing is invalid")
    func tamperedPayload() async throws {
        let token = try await sign(with: Issuer.hs256())
        let forged = payloadJSON(of: token).replacingOccurrences(of: "alice", with: "mallory")
        #expect(forged.contains("mallory"))
        let verdict = try await hs256Verifier().claim(fromAuthorization: bearer(replacingPayload(of: token, with: forged)), now: now)
        #expect(verdict == .invalid(reason: "signature does not verify"))
    }

    @Test("RS256: the matching public key verifies, another RSA key does not")
    func rs256() async throws {
        let verifier = try JWTClaimVerifier(keys: [JWTKeySpec(algorithm: .rs256, publicKeyPEM: rsaPublicPEM())])
        let good = try await sign(with: Issuer.rs256())
        let other = try await sign(with: Issuer.rs256(RSAFixtures.privateKeyB))
        #expect(await verifier.claim(fromAuthorization: bearer(good), now: now) == .valid(claim: "alice", expiresAt: now + 300))
        #expect(await verifier.claim(fromAuthorization: bearer(other), now: now) == .invalid(reason: "signature does not verify"))
    }

    @Test("ES256: a key generated now verifies, another P-256 key does not")
    func es256() async throws {
        let key = ES256PrivateKey()
        let verifier = try JWTClaimVerifier(keys: [JWTKeySpec(algorithm: .es256, publicKeyPEM: key.publicKey.pemRepresentation)])
        let good = try await sign(with: Issuer.es256(key))
        let other = try await sign(with: Issuer.es256(ES256PrivateKey()))
        #expect(await verifier.claim(fromAuthorization: bearer(good), now: now) == .valid(claim: "alice", expiresAt: now + 300))
        #expect(await verifier.claim(fromAuthorization: bearer(other), now: now) == .invalid(reason: "signature does not verify"))
    }

    @Test("alg none is refused, whatever its spelling", arguments: ["none", "None", "NONE"])
    func algNone(alg: String) async throws {
        let token = base64URL(json: #"{"alg":"\#(alg)","typ":"JWT"}"#) + "." + base64URL(json: #"{"sub":"alice"}"#) + "."
        let verdict = try await hs256Verifier().claim(fromAuthorization: bearer(token), now: now)
        #expect(verdict == .invalid(reason: "alg none is not accepted"))
    }

    @Test("An HS256 token never verifies against an RS256-only configuration")
    func noAlgorithmConfusion() async throws {
        let publicPEM = try rsaPublicPEM()
        let verifier = try JWTClaimVerifier(keys: [JWTKeySpec(algorithm: .rs256, kid: "rsa", publicKeyPEM: publicPEM)])
        // The classic attack: HMAC keyed with the RSA public key's own PEM bytes.
        let confused = try await sign(with: Issuer.hs256(publicPEM))
        #expect(await verifier.claim(fromAuthorization: bearer(confused), now: now) == .invalid(reason: "no HS256 key configured"))
        let aimed = try await sign(with: Issuer.hs256(publicPEM), kid: "rsa")
        #expect(await verifier.claim(fromAuthorization: bearer(aimed), now: now) == .invalid(reason: "alg HS256 does not match kid's key (RS256)"))
    }

    @Test("kid selects the key; an unknown kid is refused; no kid tries each key of the alg")
    func kidSelectsKey() async throws {
        let secretB = "second-secret-also-long-enough-0123"
        let verifier = try JWTClaimVerifier(keys: [
            JWTKeySpec(algorithm: .hs256, kid: "a", secret: hmacSecret),
            JWTKeySpec(algorithm: .hs256, kid: "b", secret: secretB),
        ])
        let signerB = await Issuer.hs256(secretB)
        let right = try await sign(TestClaims(sub: "bob"), with: signerB, kid: "b")
        let wrong = try await sign(TestClaims(sub: "bob"), with: signerB, kid: "a")
        let unknown = try await sign(TestClaims(sub: "bob"), with: signerB, kid: "c")
        let noKid = try await sign(TestClaims(sub: "bob"), with: signerB)
        #expect(await verifier.claim(fromAuthorization: bearer(right), now: now) == .valid(claim: "bob", expiresAt: now + 300))
        #expect(await verifier.claim(fromAuthorization: bearer(wrong), now: now) == .invalid(reason: "signature does not verify"))
        #expect(await verifier.claim(fromAuthorization: bearer(unknown), now: now) == .invalid(reason: #"unknown kid "c""#))
        #expect(await verifier.claim(fromAuthorization: bearer(noKid), now: now) == .valid(claim: "bob", expiresAt: now + 300))
    }

    @Test("A key without kid verifies tokens naming a kid no key has, as Envoy does")
    func kidlessKey() async throws {
        let verifier = try JWTClaimVerifier(keys: [
            JWTKeySpec(algorithm: .hs256, kid: "named", secret: "a-named-secret-long-enough-0123456789"),
            JWTKeySpec(algorithm: .hs256, secret: hmacSecret),
        ])
        let token = try await sign(with: Issuer.hs256(), kid: "rotated-2025")
        #expect(await verifier.claim(fromAuthorization: bearer(token), now: now) == .valid(claim: "alice", expiresAt: now + 300))
        let aimed = try await sign(with: Issuer.hs256(), kid: "named")
        #expect(await verifier.claim(fromAuthorization: bearer(aimed), now: now) == .invalid(reason: "signature does not verify"))
    }

    @Test("kid across algorithms: each key answers only its own alg")
    func kidAcrossAlgorithms() async throws {
        let ecKey = ES256PrivateKey()
        let verifier = try JWTClaimVerifier(keys: [
            JWTKeySpec(algorithm: .rs256, kid: "r", publicKeyPEM: rsaPublicPEM()),
            JWTKeySpec(algorithm: .es256, kid: "e", publicKeyPEM: ecKey.publicKey.pemRepresentation),
        ])
        let ec = await Issuer.es256(ecKey)
        let rsa = try await Issuer.rs256()
        let ecToken = try await sign(with: ec, kid: "e")
        let rsaToken = try await sign(with: rsa, kid: "r")
        let misaimed = try await sign(with: ec, kid: "r")
        #expect(await verifier.claim(fromAuthorization: bearer(ecToken), now: now) == .valid(claim: "alice", expiresAt: now + 300))
        #expect(await verifier.claim(fromAuthorization: bearer(rsaToken), now: now) == .valid(claim: "alice", expiresAt: now + 300))
        #expect(await verifier.claim(fromAuthorization: bearer(misaimed), now: now) == .invalid(reason: "alg ES256 does not match kid's key (RS256)"))
    }

    @Test("Malformed tokens and critical header extensions are invalid")
    func malformed() async throws {
        let verifier = try hs256Verifier()
        #expect(await verifier.claim(fromAuthorization: "Bearer abc.def", now: now) == .invalid(reason: "malformed token"))
        #expect(await verifier.claim(fromAuthorization: "Bearer not a token", now: now) == .invalid(reason: "malformed token"))
        let other = try await sign(with: Issuer.hs256(), header: ["alg": "HS512"])
        #expect(await verifier.claim(fromAuthorization: bearer(other), now: now) == .invalid(reason: #"alg "HS512" is not accepted"#))
        let numericKid = try await sign(with: Issuer.hs256(), header: ["kid": 5])
        #expect(await verifier.claim(fromAuthorization: bearer(numericKid), now: now) == .invalid(reason: "kid is not a string"))
        let crit = try await sign(with: Issuer.hs256(), header: ["crit": ["exp"]])
        #expect(await verifier.claim(fromAuthorization: bearer(crit), now: now) == .invalid(reason: "header has crit extensions"))
    }
}

@Suite("Claims")
struct ClaimTests {
    @Test("exp: refused once past by more than the leeway, accepted within it")
    func expiry() async throws {
        let keys = await Issuer.hs256()
        let stale = try await sign(TestClaims(exp: now - 61), with: keys)
        let skewed = try await sign(TestClaims(exp: now - 30), with: keys)
        #expect(try await hs256Verifier().claim(fromAuthorization: bearer(stale), now: now) == .invalid(reason: "token expired"))
        #expect(try await hs256Verifier().claim(fromAuthorization: bearer(skewed), now: now) == .valid(claim: "alice", expiresAt: now - 30))
        #expect(try await hs256Verifier(leeway: 0).claim(fromAuthorization: bearer(skewed), now: now) == .invalid(reason: "token expired"))
    }

    @Test("nbf: refused while more than the leeway ahead, accepted within it")
    func notBefore() async throws {
        let keys = await Issuer.hs256()
        let early = try await sign(TestClaims(nbf: now + 61), with: keys)
        let skewed = try await sign(TestClaims(nbf: now + 30), with: keys)
        #expect(try await hs256Verifier().claim(fromAuthorization: bearer(early), now: now) == .invalid(reason: "token not yet valid (nbf)"))
        #expect(try await hs256Verifier().claim(fromAuthorization: bearer(skewed), now: now) == .valid(claim: "alice", expiresAt: now + 300))
    }

    @Test("iss and aud must match when configured; aud may be a string or an array")
    func issuerAndAudience() async throws {
        let verifier = try hs256Verifier(issuer: "https://idp.example", audience: "sluice")
        let keys = await Issuer.hs256()
        func verdict(_ claims: TestClaims) async throws -> JWTVerdict {
            let token = try await sign(claims, with: keys)
            return await verifier.claim(fromAuthorization: bearer(token), now: now)
        }
        let ok = JWTVerdict.valid(claim: "alice", expiresAt: now + 300)
        #expect(try await verdict(TestClaims(iss: "https://idp.example", aud: .one("sluice"))) == ok)
        #expect(try await verdict(TestClaims(iss: "https://idp.example", aud: .many(["web", "sluice"]))) == ok)
        #expect(try await verdict(TestClaims(iss: "https://evil.example", aud: .one("sluice"))) == .invalid(reason: "iss does not match"))
        #expect(try await verdict(TestClaims(aud: .one("sluice"))) == .invalid(reason: "iss does not match"))
        #expect(try await verdict(TestClaims(iss: "https://idp.example", aud: .one("web"))) == .invalid(reason: "aud does not include sluice"))
        #expect(try await verdict(TestClaims(iss: "https://idp.example")) == .invalid(reason: "aud does not include sluice"))
    }

    @Test("Any top-level string or number claim can be the key; missing or empty is invalid")
    func claimChoice() async throws {
        let keys = await Issuer.hs256()
        let token = try await sign(TestClaims(sub: "", uid: 42), with: keys)
        #expect(try await hs256Verifier(claim: "uid").claim(fromAuthorization: bearer(token), now: now) == .valid(claim: "42", expiresAt: now + 300))
        #expect(try await hs256Verifier(claim: "sub").claim(fromAuthorization: bearer(token), now: now) == .invalid(reason: "claim sub is empty"))
        #expect(try await hs256Verifier(claim: "tenant").claim(fromAuthorization: bearer(token), now: now) == .invalid(reason: "claim tenant is missing or not a string or number"))
    }

    @Test("A mistyped exp makes the token invalid rather than unexpiring")
    func mistypedExpiry() async throws {
        let keys = await Issuer.hs256()
        let token = try await keys.sign(MistypedClaims(sub: "alice", exp: "tomorrow"))
        #expect(try await hs256Verifier().claim(fromAuthorization: bearer(token), now: now) == .invalid(reason: "malformed token"))
    }
}

struct MistypedClaims: JWTPayload {
    var sub: String
    var exp: String
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
