import Foundation
import JWTKit
import SluiceJWT

/// The instant every test treats as now, in seconds since the Unix epoch.
let now: Double = 1_750_000_000

let hmacSecret = "a-test-secret-of-at-least-32-bytes!!"

/// A payload as an issuer would sign it; nil fields are left out of the token.
struct TestClaims: JWTPayload {
    enum Audience: Codable {
        case one(String)
        case many([String])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) { self = .one(one) } else { self = .many(try container.decode([String].self)) }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .one(let one): try container.encode(one)
            case .many(let many): try container.encode(many)
            }
        }
    }

    var sub: String? = "alice"
    var exp: Double? = now + 300
    var nbf: Double?
    var iss: String?
    var aud: Audience?
    var uid: Int?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Signing keys for making tokens, each in a collection of its own.
enum Issuer {
    static func hs256(_ secret: String = hmacSecret) async -> JWTKeyCollection {
        await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    static func rs256(_ pem: String = RSAFixtures.privateKeyA) async throws -> JWTKeyCollection {
        await JWTKeyCollection().add(rsa: try Insecure.RSA.PrivateKey(pem: pem), digestAlgorithm: .sha256)
    }

    static func es256(_ key: ES256PrivateKey) async -> JWTKeyCollection {
        await JWTKeyCollection().add(ecdsa: key)
    }
}

func sign(
    _ claims: TestClaims = TestClaims(),
    with keys: JWTKeyCollection,
    kid: String? = nil,
    header: JWTHeader = JWTHeader()
) async throws -> String {
    try await keys.sign(claims, kid: kid.flatMap { JWKIdentifier(string: $0) }, header: header)
}

func rsaPublicPEM(_ privatePEM: String = RSAFixtures.privateKeyA) throws -> String {
    try Insecure.RSA.PrivateKey(pem: privatePEM).publicKey.pemRepresentation
}

func hs256Verifier(
    claim: String = "sub",
    issuer: String? = nil,
    audience: String? = nil,
    leeway: Double = JWTClaimVerifier.defaultLeeway
) throws -> JWTClaimVerifier {
    try JWTClaimVerifier(
        keys: [JWTKeySpec(algorithm: .hs256, secret: hmacSecret)],
        claim: claim, issuer: issuer, audience: audience, leeway: leeway
    )
}

func bearer(_ token: String) -> String { "Bearer \(token)" }

// MARK: - Hand-made tokens, for what jwt-kit will not sign

func base64URL(_ data: Data) -> String {
    data.base64EncodedString()
        .replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

func base64URL(json: String) -> String { base64URL(Data(json.utf8)) }

func decodeBase64URL(_ text: Substring) -> Data? {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.count % 4 != 0 { base64 += "=" }
    return Data(base64Encoded: base64)
}

/// The token with its payload swapped for `json`, header and signature kept.
func replacingPayload(of token: String, with json: String) -> String {
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    return [String(parts[0]), base64URL(json: json), String(parts[2])].joined(separator: ".")
}

/// The token's payload as JSON text.
func payloadJSON(of token: String) -> String {
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    return String(decoding: decodeBase64URL(parts[1]) ?? Data(), as: UTF8.self)
}
