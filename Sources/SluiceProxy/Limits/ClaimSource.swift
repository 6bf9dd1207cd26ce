#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Atomics
import NIOCore
import SluiceConfig
import SluiceJWT

/// The verified bearer-token claims the `jwt_claim:` key parts name. A request without a
/// valid token has no claims, so all such requests share one key per policy: a client
/// cannot get a fresh quota by sending garbage tokens.
final class ClaimSource: Sendable {
    private let verifiers: [String: JWTClaimVerifier]
    private let timeout: TimeAmount

    /// Throws a message naming the key (`jwt.keys[1]: ...`) for a bad PEM or secret.
    init?(config: SluiceConfig) throws {
        let names = Set(config.rateLimits.flatMap { $0.key.compactMap { if case .jwtClaim(let name) = $0 { name } else { nil } } })
        guard !names.isEmpty else { return nil }
        let specs = config.jwt.keys.map { key in
            JWTKeySpec(algorithm: JWTKeySpec.Algorithm(rawValue: key.algorithm.uppercased()) ?? .hs256, kid: key.kid,
                       secret: key.secret, publicKeyPEM: key.publicKeyPEM)
        }
        var verifiers: [String: JWTClaimVerifier] = [:]
        for name in names {
            do {
                verifiers[name] = try JWTClaimVerifier(keys: specs, claim: name, issuer: config.jwt.issuer, audience: config.jwt.audience,
                                                       leeway: Double(config.jwt.leeway.nanoseconds) / 1e9)
            } catch {
                throw LimitSetupError(message: error.keyIndex.map { "jwt.keys[\($0)]: \(error.reason)" } ?? "jwt: \(error.reason)")
            }
        }
        self.verifiers = verifiers
        timeout = TimeAmount(config.jwt.timeout)
    }

    /// The claims when every verifier has the token's verdict cached; nil = ask `verify`.
    func cached(authorization: String?, names: Set<String>) -> [String: String]? {
        let now = Self.wallClock()
        var claims: [String: String] = [:]
        for name in names {
            guard let verdict = verifiers[name]?.cachedClaim(fromAuthorization: authorization, now: now) else { return nil }
            if case .valid(let claim, _) = verdict { claims[name] = claim }
        }
        return claims
    }

    /// Seconds since the epoch: token times (`exp`, `nbf`) are wall-clock times.
    static func wallClock() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Verifies off the event loop (jwt-kit's keys are an actor) and completes on it; a
    /// verification that takes longer than `jwt.timeout` counts as no valid token.
    func verify(authorization: String?, names: Set<String>, eventLoop: any EventLoop) -> EventLoopFuture<[String: String]> {
        let promise = eventLoop.makePromise(of: [String: String].self)
        let settled = ManagedAtomic(false)
        let settle: @Sendable ([String: String]) -> Void = { claims in
            if settled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged { promise.succeed(claims) }
        }
        let deadline = eventLoop.scheduleTask(in: timeout) { settle([:]) }
        let verifiers = names.compactMap { name in self.verifiers[name].map { (name, $0) } }
        Task {
            let now = Self.wallClock()
            var claims: [String: String] = [:]
            for (name, verifier) in verifiers {
                if case .valid(let claim, _) = await verifier.claim(fromAuthorization: authorization, now: now) { claims[name] = claim }
            }
            deadline.cancel()
            settle(claims)
        }
        return promise.futureResult
    }
}

/// A part of the rate-limit setup that the config loader cannot check (a key's PEM, Redis URL).
struct LimitSetupError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
