import JWTKit
import SluiceJWT
import Testing

@Suite("Configuration errors")
struct ConfigurationTests {
    /// The error building a verifier from `keys` throws, or nil if it builds.
    private func error(_ keys: [JWTKeySpec], claim: String = "sub") -> JWTConfigurationError? {
        do {
            _ = try JWTClaimVerifier(keys: keys, claim: claim)
            return nil
        } catch {
            return error
        }
    }

    @Test("A bad PEM names the key by position and kid")
    func badPEM() throws {
        let hs = JWTKeySpec(algorithm: .hs256, secret: hmacSecret)
        let failure = try #require(error([hs, JWTKeySpec(algorithm: .rs256, kid: "signing-2024", publicKeyPEM: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----")]))
        #expect(failure.keyIndex == 1)
        #expect(failure.kid == "signing-2024")
        #expect(failure.reason.hasPrefix("publicKeyPEM is not an RSA public key of at least 2048 bits in PEM"))
        #expect(failure.description.hasPrefix(#"jwt key #1 (kid "signing-2024"): publicKeyPEM is not"#))
    }

    @Test("An RSA key given as ES256, or an EC key as RS256, is refused")
    func wrongKeyType() throws {
        let ecPEM = ES256PrivateKey().publicKey.pemRepresentation
        let asES = try #require(error([JWTKeySpec(algorithm: .es256, publicKeyPEM: rsaPublicPEM())]))
        #expect(asES.reason.hasPrefix("publicKeyPEM is not a P-256 public key in PEM"))
        let asRS = try #require(error([JWTKeySpec(algorithm: .rs256, publicKeyPEM: ecPEM)]))
        #expect(asRS.reason.hasPrefix("publicKeyPEM is not an RSA public key"))
    }

    @Test("Secrets and PEMs go with their algorithms", arguments: [
        (JWTKeySpec(algorithm: .hs256), "HS256 needs a secret"),
        (JWTKeySpec(algorithm: .hs256, secret: ""), "HS256 secret is 0 bytes; it must be at least 32"),
        (JWTKeySpec(algorithm: .hs256, secret: String(repeating: "x", count: 31)), "HS256 secret is 31 bytes; it must be at least 32"),
        (JWTKeySpec(algorithm: .hs256, secret: "s", publicKeyPEM: "pem"), "HS256 takes a secret, not publicKeyPEM"),
        (JWTKeySpec(algorithm: .rs256), "RS256 needs publicKeyPEM"),
        (JWTKeySpec(algorithm: .es256, secret: "s"), "ES256 takes publicKeyPEM, not a secret"),
        (JWTKeySpec(algorithm: .hs256, kid: "", secret: "s"), "kid is empty; leave it out instead"),
    ])
    func materialMismatch(spec: JWTKeySpec, reason: String) {
        #expect(error([spec]) == JWTConfigurationError(keyIndex: 0, kid: spec.kid, reason: reason))
    }

    @Test("A kid used twice, no keys, or an empty claim name is refused")
    func settings() {
        let a = JWTKeySpec(algorithm: .hs256, kid: "k", secret: hmacSecret)
        let b = JWTKeySpec(algorithm: .hs256, kid: "k", secret: hmacSecret + "2")
        #expect(error([a, b]) == JWTConfigurationError(keyIndex: 1, kid: "k", reason: "kid is used by an earlier key too"))
        #expect(error([]) == JWTConfigurationError(reason: "no keys configured"))
        #expect(error([a], claim: "") == JWTConfigurationError(reason: "the claim name is empty"))
        #expect(JWTConfigurationError(reason: "no keys configured").description == "jwt: no keys configured")
    }

    @Test("Limits must make sense")
    func limits() {
        let keys = [JWTKeySpec(algorithm: .hs256, secret: hmacSecret)]
        #expect(throws: JWTConfigurationError.self) { try JWTClaimVerifier(keys: keys, leeway: -1) }
        #expect(throws: JWTConfigurationError.self) { try JWTClaimVerifier(keys: keys, cacheCapacity: 0) }
        #expect(throws: JWTConfigurationError.self) { try JWTClaimVerifier(keys: keys, negativeCacheTTL: .infinity) }
    }
}
