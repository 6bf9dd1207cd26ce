import JWTKit

/// The parts of a payload Sluice looks at. Which claim is the rate-limit key is configuration,
/// so every top-level string or number is kept by name rather than decoded into fixed fields.
///
/// `verify(using:)` checks nothing: time is checked by ``JWTClaimVerifier`` against the
/// caller's clock, which jwt-kit's own claim types would read by themselves.
struct TokenClaims: JWTPayload {
    var expiration: Double?
    var notBefore: Double?
    var issuer: String?
    var audience: [String]?
    /// Top-level strings, and numbers as their decimal text.
    var scalars: [String: String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: ClaimName.self)
        // A present but mistyped registered claim fails the token rather than being ignored.
        expiration = try container.decodeIfPresent(Double.self, forKey: ClaimName("exp"))
        notBefore = try container.decodeIfPresent(Double.self, forKey: ClaimName("nbf"))
        issuer = try container.decodeIfPresent(String.self, forKey: ClaimName("iss"))
        let aud = ClaimName("aud")
        if let one = try? container.decode(String.self, forKey: aud) {
            audience = [one]
        } else {
            audience = try container.decodeIfPresent([String].self, forKey: aud)
        }
        var scalars: [String: String] = [:]
        for key in container.allKeys {
            if let text = try? container.decode(String.self, forKey: key) {
                scalars[key.stringValue] = text
            } else if let whole = try? container.decode(Int64.self, forKey: key) {
                scalars[key.stringValue] = String(whole)
            } else if let number = try? container.decode(Double.self, forKey: key) {
                scalars[key.stringValue] = String(number)
            }
        }
        self.scalars = scalars
    }

    /// Never called: Sluice verifies tokens, it does not issue them.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: ClaimName.self)
        for (name, value) in scalars {
            try container.encode(value, forKey: ClaimName(name))
        }
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Only the header of a token, read before its signature is checked to choose the key.
/// The payload is skipped, not decoded.
struct HeaderOnly: JWTPayload {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

struct ClaimName: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
