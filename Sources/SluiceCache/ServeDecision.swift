/// Whether a stored response the request selected (same key, Vary matched) may answer it
/// (RFC 9111 §4, §4.2.4, §5.2.1; RFC 5861), and how.
///
/// The data path asks once with `originFailing: false`. If that says to revalidate or fetch and
/// the origin then fails (RFC 5861 §4: an answer of 500, 502, 503 or 504, or no answer), it asks
/// again with `originFailing: true`: `staleIfError` means serve the stored response, anything
/// else means pass the failure on (504 when the origin gave none, §5.2.2.2).
public enum ServeDecision: Sendable, Equatable {
    /// Fresh and acceptable to the request: serve it.
    case fresh(Reuse)
    /// Stale, within what the request's `max-stale` accepts (§5.2.1.2): serve it.
    case staleAllowedByRequest(Reuse)
    /// Stale within `stale-while-revalidate` (RFC 5861 §3): serve it now and revalidate in the
    /// background.
    case staleWhileRevalidate(Reuse)
    /// The origin is failing and `stale-if-error` covers this staleness: serve it.
    case staleIfError(Reuse)
    /// Send these conditional fields upstream (§4.3.1). A 304 that applies freshens the stored
    /// response (§4.3.3, `StoredResponse.freshened`); a full response is used instead of it
    /// (and stored if storable); an origin failure is asked about again (see above).
    case revalidate(ForwardReason, conditional: HeaderFields)
    /// The stored response has no validator: fetch without conditions.
    case mustFetch(ForwardReason)
    /// `only-if-cached` and the stored response cannot be used without the origin: 504
    /// (§5.2.1.7).
    case onlyIfCachedMiss

    /// How a stored response is reused.
    public struct Reuse: Sendable, Equatable {
        /// The Age field to send (§5.1), replacing any stored one.
        public var age: Int64
        /// Freshness left, negative when stale: Cache-Status `ttl` (RFC 9211 §2.4).
        public var timeToLive: Int64
        /// Fields to leave out of the response, lowercased: those a qualified `no-cache` lists
        /// may be sent only after a successful revalidation (§5.2.2.4).
        public var omittedFields: [String]

        public init(age: Int64, timeToLive: Int64, omittedFields: [String] = []) {
            self.age = age
            self.timeToLive = timeToLive
            self.omittedFields = omittedFields
        }
    }

    /// The decision at `now` (Unix seconds), for the request's fields.
    ///
    /// Choices where the RFCs leave room:
    /// - `immutable` (RFC 8246 §2.1) while fresh skips the revalidation a request `max-age`
    ///   would cause (a plain reload), not the one `no-cache` asks for (the signal RFC 8246
    ///   names, and a forced reload).
    /// - Stale is never served for `must-revalidate`, or in a shared cache `proxy-revalidate` or
    ///   `s-maxage` (§4.2.4, §5.2.2.2, §5.2.2.8, §5.2.2.10), whatever max-stale,
    ///   stale-while-revalidate or stale-if-error say; nor for an unqualified response `no-cache`
    ///   (§5.2.2.4), fresh or not.
    /// - `stale-while-revalidate` serves stale only to requests without `max-age` or
    ///   `min-fresh`: those ask for a fresh response (§5.2.1.1, §5.2.1.3).
    /// - `stale-if-error` comes from the response or the request (RFC 5861 §4), the larger
    ///   window winning, else from `CachePolicy.staleIfErrorByDefault`.
    /// - `Pragma: no-cache` is ignored: RFC 9111 §5.4 deprecates Pragma.
    public static func decide(
        stored: StoredResponse,
        request: HeaderFields,
        now: Int64,
        originFailing: Bool = false,
        policy: CachePolicy = CachePolicy()
    ) -> ServeDecision {
        let requested = CacheControl(request)
        let directives = stored.directives
        let timeToLive = stored.timeToLive(at: now)
        let staleness = max(0, -timeToLive)
        let reuse = Reuse(age: stored.age(at: now), timeToLive: timeToLive, omittedFields: directives.noCache?.fieldNames ?? [])

        func forward(_ reason: ForwardReason) -> ServeDecision {
            if requested.onlyIfCached { return .onlyIfCachedMiss }
            let conditional = Revalidation.conditionalFields(for: stored.headers)
            return conditional.isEmpty ? .mustFetch(reason) : .revalidate(reason, conditional: conditional)
        }

        // §5.2.2.4: an unqualified no-cache is validated on every reuse, as if always stale.
        if directives.noCache == .wholeResponse { return forward(.stale) }
        // §5.2.1.4: the client wants validation.
        if requested.noCache != nil { return forward(.request) }

        if timeToLive > 0 {
            if let maxAge = requested.maxAge, reuse.age > maxAge, !directives.immutable { return forward(.request) }
            if let minFresh = requested.minFresh, timeToLive < minFresh { return forward(.request) }
            return .fresh(reuse)
        }

        let mustRevalidate = directives.mustRevalidate
            || (policy.isShared && (directives.proxyRevalidate || directives.sharedMaxAge != nil))
        if mustRevalidate { return forward(.stale) }

        let asksForFresh = requested.maxAge != nil || (requested.minFresh ?? 0) > 0
        if let maxStale = requested.maxStale, (requested.minFresh ?? 0) == 0, requested.maxAge.map({ reuse.age <= $0 }) ?? true {
            switch maxStale {
            case .unlimited: return .staleAllowedByRequest(reuse)
            case .seconds(let limit) where staleness <= limit: return .staleAllowedByRequest(reuse)
            case .seconds: break
            }
        }
        if originFailing, let window = staleIfErrorWindow(directives, requested, policy), staleness <= window {
            return .staleIfError(reuse)
        }
        if let window = directives.staleWhileRevalidate, staleness <= window, !asksForFresh {
            return .staleWhileRevalidate(reuse)
        }
        return forward(.stale)
    }

    /// RFC 5861 §4: the answers that count as the origin failing (with no answer at all).
    public static func isOriginFailure(status: Int) -> Bool {
        status == 500 || status == 502 || status == 503 || status == 504
    }

    private static func staleIfErrorWindow(_ response: CacheControl, _ request: CacheControl, _ policy: CachePolicy) -> Int64? {
        let stated = [response.staleIfError, request.staleIfError].compactMap { $0 }.max()
        return stated ?? (policy.staleIfErrorByDefault > 0 ? policy.staleIfErrorByDefault : nil)
    }
}
