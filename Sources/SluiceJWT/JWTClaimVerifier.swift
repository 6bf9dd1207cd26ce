import JWTKit
import Synchronization

/// Turns an `Authorization: Bearer <jwt>` header into one verified claim (by default `sub`),
/// for the proxy to use as a rate-limit key.
///
/// A token is valid when its header `alg` is HS256, RS256 or ES256 (never `none`), a
/// configured key of that same algorithm verifies its signature, `exp` and `nbf` hold at the
/// caller's `now` within `leeway`, `iss` and `aud` match when configured, and the claim is a
/// non-empty top-level string or number. The keys tried are, as in Envoy's jwt_verify_lib, the
/// one whose `kid` the header names, else every key without a `kid`; with no `kid` in the
/// header, every key of the header's `alg`, in order.
///
/// jwt-kit verifies asynchronously, while the data path runs on event loops, so results are
/// cached: ``cachedClaim(fromAuthorization:now:)`` answers synchronously for a token seen
/// before and ``claim(fromAuthorization:now:)`` verifies and fills the cache. A valid token
/// stays cached until it expires (`exp` + `leeway`) or, without `exp`, until evicted; the
/// cache holds at most `cacheCapacity` of them, evicting the oldest. A rejected token is
/// remembered for `negativeCacheTTL` seconds (and never past the moment its `nbf` comes into
/// reach), in a smaller cache of its own so that floods of junk cannot push out valid tokens.
///
/// Times are seconds since the Unix epoch, and come from the caller: nothing here reads a clock.
public final class JWTClaimVerifier: Sendable {
    /// Clock skew allowed on `exp` and `nbf`, in seconds: Envoy `jwt_authn`'s default.
    public static let defaultLeeway: Double = 60
    public static let defaultCacheCapacity = 10_000
    public static let defaultNegativeCacheCapacity = 1_000
    /// How long a rejected token is answered from the cache, in seconds.
    public static let defaultNegativeCacheTTL: Double = 5

    /// The claim whose value ``JWTVerdict/valid(claim:expiresAt:)`` carries.
    public let claimName: String
    /// When set, `iss` must equal it.
    public let issuer: String?
    /// When set, `aud` (a string or an array of strings) must contain it.
    public let audience: String?
    public let leeway: Double
    public let negativeCacheTTL: Double

    private let keys: [VerifyingKey]
    private let caches: Mutex<Caches>

    /// Builds a verifier, or throws a ``JWTConfigurationError`` saying which key or setting is
    /// wrong: a bad PEM, a missing or empty secret, a repeated `kid`, no keys at all.
    public init(
        keys specs: [JWTKeySpec],
        claim: String = "sub",
        issuer: String? = nil,
        audience: String? = nil,
        leeway: Double = JWTClaimVerifier.defaultLeeway,
        cacheCapacity: Int = JWTClaimVerifier.defaultCacheCapacity,
        negativeCacheCapacity: Int = JWTClaimVerifier.defaultNegativeCacheCapacity,
        negativeCacheTTL: Double = JWTClaimVerifier.defaultNegativeCacheTTL
    ) throws(JWTConfigurationError) {
        func failure(_ reason: String) -> JWTConfigurationError { JWTConfigurationError(reason: reason) }
        guard !specs.isEmpty else { throw failure("no keys configured") }
        guard !claim.isEmpty else { throw failure("the claim name is empty") }
        guard leeway >= 0, leeway.isFinite else { throw failure("leeway must be 0 s or more") }
        guard cacheCapacity > 0, negativeCacheCapacity > 0 else { throw failure("cache capacities must be at least 1") }
        guard negativeCacheTTL >= 0, negativeCacheTTL.isFinite else { throw failure("negative cache TTL must be 0 s or more") }
        var keys: [VerifyingKey] = []
        for (index, spec) in specs.enumerated() {
            if let kid = spec.kid, specs[..<index].contains(where: { $0.kid == kid }) {
                throw JWTConfigurationError(keyIndex: index, kid: kid, reason: "kid is used by an earlier key too")
            }
            keys.append(try VerifyingKey(spec, index: index))
        }
        self.keys = keys
        self.claimName = claim
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.negativeCacheTTL = negativeCacheTTL
        self.caches = Mutex(Caches(valid: TokenCache(capacity: cacheCapacity), rejected: TokenCache(capacity: negativeCacheCapacity)))
    }

    /// The verdict if it can be given without verifying: no bearer token, or a token in the
    /// cache. nil means the token must go through ``claim(fromAuthorization:now:)``.
    /// `now` is seconds since the Unix epoch. Takes the cache lock briefly; never suspends.
    public func cachedClaim(fromAuthorization header: String?, now: Double) -> JWTVerdict? {
        switch BearerCredential(authorization: header) {
        case .absent: return .missing
        case .empty: return .invalid(reason: BearerCredential.emptyReason)
        case .token(let token): return cached(token, now: now)
        }
    }

    /// Verifies the header's bearer token (or answers from the cache) and caches the outcome.
    /// `now` is seconds since the Unix epoch.
    public func claim(fromAuthorization header: String?, now: Double) async -> JWTVerdict {
        guard case .token(let token) = BearerCredential(authorization: header) else {
            return cachedClaim(fromAuthorization: header, now: now) ?? .missing
        }
        if let verdict = cached(token, now: now) { return verdict }
        switch await verify(token, now: now) {
        case .success(let accepted):
            caches.withLock { $0.valid.insert(accepted, for: token) }
            return .valid(claim: accepted.claim, expiresAt: accepted.window.expiration)
        case .failure(let rejection):
            let ttl = negativeCacheTTL
            caches.withLock { $0.reject(token, rejection, now: now, ttl: ttl) }
            return .invalid(reason: rejection.reason)
        }
    }

    // MARK: - Verification

    private func verify(_ token: String, now: Double) async -> Result<Accepted, Rejection> {
        let header: JWTHeader
        do {
            header = try DefaultJWTParser().parse(Array(token.utf8), as: HeaderOnly.self).header
        } catch {
            return .failure(Rejection("malformed token"))
        }
        guard let alg = header.alg else { return .failure(Rejection("header has no alg")) }
        guard let algorithm = JWTKeySpec.Algorithm(rawValue: alg) else {
            let reason = alg.lowercased() == "none" ? "alg none is not accepted" : "alg \(Self.printable(alg)) is not accepted"
            return .failure(Rejection(reason))
        }
        // No extension (RFC 7515 §4.1.11) is understood, so a token that marks one critical is refused.
        if header.fields["crit"] != nil { return .failure(Rejection("header has crit extensions")) }

        // As Envoy's jwt_verify_lib: the key whose kid the header names, else any key without a
        // kid; a header without kid may be signed by any key. The key's algorithm must be `alg`.
        let candidates: [VerifyingKey]
        if let kid = header.kid {
            if let key = keys.first(where: { $0.kid == kid }) {
                guard key.algorithm == algorithm else {
                    return .failure(Rejection("alg \(alg) does not match kid's key (\(key.algorithm.rawValue))"))
                }
                candidates = [key]
            } else {
                candidates = keys.filter { $0.kid == nil && $0.algorithm == algorithm }
                if candidates.isEmpty { return .failure(Rejection("unknown kid \(Self.printable(kid))")) }
            }
        } else if header.fields["kid"] != nil {
            return .failure(Rejection("kid is not a string"))
        } else {
            candidates = keys.filter { $0.algorithm == algorithm }
            if candidates.isEmpty { return .failure(Rejection("no \(alg) key configured")) }
        }

        var claims: TokenClaims?
        var failure = "signature does not verify"
        for key in candidates {
            do {
                claims = try await key.verify(token)
                break
            } catch {
                failure = Self.reason(for: error)
            }
        }
        guard let claims else { return .failure(Rejection(failure)) }
        return check(claims, now: now)
    }

    /// The checks after the signature: time window, issuer, audience, and the claim itself.
    private func check(_ claims: TokenClaims, now: Double) -> Result<Accepted, Rejection> {
        let window = TimeWindow(notBefore: claims.notBefore, expiration: claims.expiration)
        if let rejection = window.rejection(at: now, leeway: leeway) { return .failure(rejection) }
        if let issuer, claims.issuer != issuer { return .failure(Rejection("iss does not match")) }
        if let audience, !(claims.audience ?? []).contains(audience) {
            return .failure(Rejection("aud does not include \(audience)"))
        }
        guard let value = claims.scalars[claimName] else {
            return .failure(Rejection("claim \(claimName) is missing or not a string or number"))
        }
        guard !value.isEmpty else { return .failure(Rejection("claim \(claimName) is empty")) }
        return .success(Accepted(claim: value, window: window))
    }

    private static func reason(for error: any Error) -> String {
        guard let error = error as? JWTError else { return "signature does not verify" }
        switch error.errorType {
        case .signatureVerificationFailed: return "signature does not verify"
        case .malformedToken: return "malformed token"
        default: return "token rejected (\(error.errorType))"
        }
    }

    /// Header values are the sender's: keep a reason short and safe to write to a log line.
    private static func printable(_ text: String) -> String {
        let kept = text.unicodeScalars.prefix(40).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" }
        return "\"" + String(kept) + (text.unicodeScalars.count > 40 ? "…\"" : "\"")
    }

    // MARK: - Cache

    private func cached(_ token: String, now: Double) -> JWTVerdict? {
        caches.withLock { caches in
            if let hit = caches.valid.entry(for: token) {
                guard let rejection = hit.window.rejection(at: now, leeway: leeway) else {
                    return .valid(claim: hit.claim, expiresAt: hit.window.expiration)
                }
                // Expired is final; "not yet valid" only means this caller's clock is behind the
                // one that verified it, so let the full check decide.
                guard rejection.validFrom == nil else { return nil }
                caches.valid.remove(token)
                caches.reject(token, rejection, now: now, ttl: negativeCacheTTL)
                return .invalid(reason: rejection.reason)
            }
            if let miss = caches.rejected.entry(for: token) {
                if now < miss.until { return .invalid(reason: miss.reason) }
                caches.rejected.remove(token)
            }
            return nil
        }
    }
}
