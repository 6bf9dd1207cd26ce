import JWTKit

/// A configured key, parsed, each in a `JWTKeyCollection` of its own as that collection's only
/// (default) key. One collection per key because jwt-kit, given an unknown `kid`, falls back to
/// the default key, and never compares the header's `alg` with the key; Sluice chooses the key
/// itself (``JWTClaimVerifier``) and asks jwt-kit only to check the signature and decode.
struct VerifyingKey: Sendable {
    let algorithm: JWTKeySpec.Algorithm
    let kid: String?
    /// Filled once at start-up: adding a key to the actor is async, the verifier's init is not.
    private let keys: Task<JWTKeyCollection, Never>

    /// Parses `spec`, throwing a ``JWTConfigurationError`` that names the key and the problem.
    init(_ spec: JWTKeySpec, index: Int) throws(JWTConfigurationError) {
        func failure(_ reason: String) -> JWTConfigurationError {
            JWTConfigurationError(keyIndex: index, kid: spec.kid, reason: reason)
        }
        if spec.kid?.isEmpty == true { throw failure("kid is empty; leave it out instead") }
        let alg = spec.algorithm.rawValue
        let material: Material
        switch spec.algorithm {
        case .hs256:
            guard spec.publicKeyPEM == nil else { throw failure("HS256 takes a secret, not publicKeyPEM") }
            guard let secret = spec.secret else { throw failure("HS256 needs a secret") }
            // RFC 7518 §3.2; jwt-kit asserts it too, and means to make it a precondition.
            guard secret.utf8.count >= 32 else {
                throw failure("HS256 secret is \(secret.utf8.count) bytes; it must be at least 32")
            }
            material = .hmac(HMACKey(from: secret))
        case .rs256, .es256:
            guard spec.secret == nil else { throw failure("\(alg) takes publicKeyPEM, not a secret") }
            guard let pem = spec.publicKeyPEM else { throw failure("\(alg) needs publicKeyPEM") }
            do {
                material = spec.algorithm == .rs256
                    ? .rsa(try Insecure.RSA.PublicKey(pem: pem))
                    : .ecdsa(try ES256PublicKey(pem: pem))
            } catch {
                let want = spec.algorithm == .rs256 ? "an RSA public key of at least 2048 bits" : "a P-256 public key"
                throw failure("publicKeyPEM is not \(want) in PEM (\(error))")
            }
        }
        self.algorithm = spec.algorithm
        self.kid = spec.kid
        self.keys = Task {
            let keys = JWTKeyCollection()
            switch material {
            case .hmac(let key): await keys.add(hmac: key, digestAlgorithm: .sha256)
            case .rsa(let key): await keys.add(rsa: key, digestAlgorithm: .sha256)
            case .ecdsa(let key): await keys.add(ecdsa: key)
            }
            return keys
        }
    }

    /// Checks the signature with this key and decodes the payload; throws if either fails.
    func verify(_ token: String) async throws -> TokenClaims {
        try await keys.value.verify(token, as: TokenClaims.self)
    }

    private enum Material: Sendable {
        case hmac(HMACKey)
        case rsa(Insecure.RSA.PublicKey)
        case ecdsa(ES256PublicKey)
    }
}
