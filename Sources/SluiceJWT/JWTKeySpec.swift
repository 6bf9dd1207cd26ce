/// One key a ``JWTClaimVerifier`` accepts signatures from, as configuration gives it.
///
/// An HS256 key has a `secret`; an RS256 or ES256 key has a `publicKeyPEM`
/// (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo). A key only ever verifies tokens whose
/// header `alg` is its own algorithm, so an RSA key's bytes can never serve as an HMAC secret.
public struct JWTKeySpec: Sendable, Equatable {
    /// The signature algorithms Sluice accepts. `none` is deliberately not one of them.
    public enum Algorithm: String, Sendable, Equatable, CaseIterable {
        case hs256 = "HS256"
        case rs256 = "RS256"
        case es256 = "ES256"
    }

    public var algorithm: Algorithm
    /// Matched against the token header's `kid`; nil means the key has no id.
    public var kid: String?
    /// The shared secret of an HS256 key: its UTF-8 bytes, at least 32 of them (RFC 7518 §3.2).
    public var secret: String?
    /// The PEM public key of an RS256 (at least 2048 bits) or ES256 (P-256) key.
    public var publicKeyPEM: String?

    public init(algorithm: Algorithm, kid: String? = nil, secret: String? = nil, publicKeyPEM: String? = nil) {
        self.algorithm = algorithm
        self.kid = kid
        self.secret = secret
        self.publicKeyPEM = publicKeyPEM
    }
}

/// Why a ``JWTClaimVerifier`` could not be built: which key (its position in the list and its
/// `kid`), or which other setting, and what is wrong with it.
public struct JWTConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key's index in the list given to the verifier; nil when the error is not about a key.
    public var keyIndex: Int?
    public var kid: String?
    public var reason: String

    public init(keyIndex: Int? = nil, kid: String? = nil, reason: String) {
        self.keyIndex = keyIndex
        self.kid = kid
        self.reason = reason
    }

    public var description: String {
        guard let keyIndex else { return "jwt: \(reason)" }
        let name = kid.map { " (kid \"\($0)\")" } ?? ""
        return "jwt key #\(keyIndex)\(name): \(reason)"
    }
}

/// What a bearer token in an `Authorization` header amounts to.
public enum JWTVerdict: Sendable, Equatable {
    /// The token verifies; `claim` is the configured claim's value (a number as its decimal
    /// text) and `expiresAt` the token's `exp` in seconds since the Unix epoch, if it has one.
    case valid(claim: String, expiresAt: Double?)
    /// No `Authorization` header, or one whose scheme is not `Bearer`.
    case missing
    /// A bearer token that does not verify, with a short reason fit for a log line.
    case invalid(reason: String)
}
