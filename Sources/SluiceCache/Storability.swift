/// May the cache store this response (RFC 9111 §3)? Checked once per response from the origin,
/// before its body is buffered.
public enum Storability: Sendable, Equatable {
    case storable
    case notStorable(NotStorableReason)

    public var isStorable: Bool { self == .storable }

    /// The §3 rules, in the order below (the first that fails is the reason).
    ///
    /// Only GET and HEAD are stored (methods are case-sensitive, RFC 9110 §9.1). A HEAD response
    /// has no content, so it must only answer HEAD requests, kept apart from GET entries;
    /// the other way round, a stored GET response can answer a HEAD (RFC 9110 §9.3.2).
    public static func evaluate(
        method: String,
        request: HeaderFields,
        status: Int,
        response: HeaderFields,
        policy: CachePolicy = CachePolicy()
    ) -> Storability {
        let requestDirectives = CacheControl(request)
        let directives = CacheControl(response)

        guard method == "GET" || method == "HEAD" else { return .notStorable(.method) }
        // §3: a final response only (1xx are interim).
        guard status >= 200, status <= 999 else { return .notStorable(.interimStatus) }
        // §5.2.1.5.
        guard !requestDirectives.noStore else { return .notStorable(.requestNoStore) }
        // Partial content needs range support to be reused (§3.3); it passes through for now.
        guard status != 206 else { return .notStorable(.partialContent) }

        let understood = policy.understoodStatusCodes.contains(status)
        if directives.mustUnderstand {
            // §5.2.2.3: only a cache that understands the status may store; one that does
            // ignores no-store, which must-understand is sent with for older caches.
            guard understood else { return .notStorable(.statusNotUnderstood) }
        } else {
            guard !directives.noStore else { return .notStorable(.responseNoStore) }
            // §3: a 304 (or 206) is stored only by a cache that understands it.
            guard status != 304 || understood else { return .notStorable(.statusNotUnderstood) }
        }

        if policy.isShared {
            // §5.2.2.7: unqualified private is for one user's cache. A qualified one only keeps
            // the listed fields out (StoredResponse drops them).
            guard directives.private != .wholeResponse else { return .notStorable(.privateResponse) }
            // §3.5: a shared cache reuses an authorised response only if the origin allows it.
            if request.contains("Authorization") {
                guard directives.mustRevalidate || directives.public || directives.sharedMaxAge != nil else {
                    return .notStorable(.authorization)
                }
            }
        }

        // §4.1: "Vary: *" never matches a later request, so storing it would only evict.
        guard !VaryKey.varyHasAsterisk(response) else { return .notStorable(.varyAsterisk) }

        // §3: explicit freshness, or a status cacheable by default (§4.2.2's heuristic).
        let explicitlyCacheable = directives.public || response.contains("Expires") || directives.maxAge != nil
            || (policy.isShared ? directives.sharedMaxAge != nil : directives.private != nil)
        guard explicitlyCacheable || policy.heuristicallyCacheableStatusCodes.contains(status) else {
            return .notStorable(.notCacheable)
        }
        return .storable
    }
}

/// Why a response is not stored; `rawValue` is the RFC 9211 Cache-Status `detail` token.
public enum NotStorableReason: String, Sendable, CaseIterable {
    /// Not GET or HEAD.
    case method = "method"
    /// 1xx, or not a status code.
    case interimStatus = "interim-status"
    /// The request said `no-store` (§5.2.1.5).
    case requestNoStore = "request-no-store"
    /// 206: ranges are not supported, partial responses pass through.
    case partialContent = "partial-content"
    /// `must-understand` with a status the cache does not implement, or a 304 (§3, §5.2.2.3).
    case statusNotUnderstood = "status-not-understood"
    /// The response said `no-store` (§5.2.2.5).
    case responseNoStore = "no-store"
    /// Unqualified `private` in a shared cache (§5.2.2.7).
    case privateResponse = "private"
    /// The request carried Authorization and the response did not allow sharing (§3.5).
    case authorization = "authorization"
    /// `Vary: *` (§4.1).
    case varyAsterisk = "vary-asterisk"
    /// No explicit freshness and a status not cacheable by default (§3).
    case notCacheable = "not-cacheable"
}
