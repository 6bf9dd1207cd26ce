/// A response as the cache keeps it: its status, its header fields as stored, and what §4.2
/// needs computed once at store time. The body lives with the data path; this is metadata.
public struct StoredResponse: Sendable, Equatable {
    public var status: Int
    /// The fields to serve: the origin's, less those §3.1 keeps out of storage, with a Date
    /// added when the origin sent none.
    public private(set) var headers: HeaderFields
    /// Unix seconds: when the request went upstream and when the response arrived.
    public var requestTime: Int64
    public var responseTime: Int64
    public var lifetime: Freshness.Lifetime
    /// §4.2.3's corrected_initial_age.
    public var correctedInitialAge: Int64
    /// The stored Cache-Control, parsed once: every reuse consults it.
    public var directives: CacheControl

    /// Prepares `headers` (as received from the origin) for storage and computes freshness.
    public init(status: Int, headers: HeaderFields, requestTime: Int64, responseTime: Int64, policy: CachePolicy = CachePolicy()) {
        var stored = Self.storableFields(headers, policy: policy)
        // RFC 9110 §6.6.1: a cache that stores a response without Date adds one.
        if !stored.contains("Date") { stored.append("Date", HTTPDate.format(responseTime)) }
        self.status = status
        self.headers = stored
        self.requestTime = requestTime
        self.responseTime = responseTime
        lifetime = Freshness.lifetime(status: status, response: stored, responseTime: responseTime, policy: policy)
        correctedInitialAge = Freshness.correctedInitialAge(response: stored, requestTime: requestTime, responseTime: responseTime)
        directives = CacheControl(stored)
    }

    public var freshnessLifetime: Int64 { lifetime.seconds }

    /// §4.2.3's current_age at `now`: the value of the Age field to send.
    public func age(at now: Int64) -> Int64 {
        Freshness.currentAge(correctedInitialAge: correctedInitialAge, responseTime: responseTime, now: now)
    }

    /// §4.2: fresh while freshness_lifetime > current_age.
    public func isFresh(at now: Int64) -> Bool { freshnessLifetime > age(at: now) }

    /// Seconds of freshness left at `now`, negative once stale: Cache-Status `ttl` (RFC 9211 §2.4).
    public func timeToLive(at now: Int64) -> Int64 { freshnessLifetime - age(at: now) }

    /// This response freshened by a 304 that applies to it (§4.3.4): its fields updated as §3.2
    /// says, and its freshness measured again from the validating exchange's times.
    /// A 304 without Date gets one of its arrival time first (RFC 9110 §6.6.1), and the stored
    /// Age goes, or either would make the freshened response as old as the original.
    public func freshened(by notModified: HeaderFields, requestTime: Int64, responseTime: Int64, policy: CachePolicy = CachePolicy()) -> StoredResponse {
        var update = Self.storableFields(notModified, policy: policy)
        if !update.contains("Date") { update.append("Date", HTTPDate.format(responseTime)) }
        // The stored Age described the first exchange; the new one's is the 304's, if any.
        let updated = Revalidation.updatedFields(stored: headers.removing(["age"]), notModified: update)
        return StoredResponse(status: status, headers: updated, requestTime: requestTime, responseTime: responseTime, policy: policy)
    }

    /// §3.1: fields that are not stored. Hop-by-hop fields and those the Connection field names
    /// (RFC 9110 §7.6.1); the proxy-specific Proxy-Authenticate, Proxy-Authentication-Info and
    /// Proxy-Authorization; and, in a shared cache, the fields a qualified `private` lists
    /// (§5.2.2.7). Fields a qualified `no-cache` lists are kept: §5.2.2.4 lets them be sent
    /// again after a successful revalidation, so ServeDecision leaves them out until then.
    public static func storableFields(_ headers: HeaderFields, policy: CachePolicy) -> HeaderFields {
        var excluded = hopByHop
        excluded.formUnion(headers.listMembers("Connection").map(FieldSyntax.lowercased))
        if policy.isShared { excluded.formUnion(CacheControl(headers).private?.fieldNames ?? []) }
        return headers.removing(excluded)
    }

    static let hopByHop: Set<String> = [
        "connection", "proxy-connection", "keep-alive", "te", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authentication-info", "proxy-authorization",
    ]
}
