/// Validation (RFC 9111 §4.3): the conditional request the cache sends upstream, what it does
/// with a 304, and how it answers a client's own conditional request from storage.
public enum Revalidation {
    /// §4.3.1: If-None-Match with the stored ETag (MUST when there is one) and If-Modified-Since
    /// with the stored Last-Modified (SHOULD, for a single stored response and no subrange).
    /// Empty when the stored response has no validator: the request can only be unconditional.
    public static func conditionalFields(for stored: HeaderFields) -> HeaderFields {
        var fields = HeaderFields()
        if let etag = stored.first("ETag"), EntityTag(etag) != nil { fields.append("If-None-Match", etag) }
        if let lastModified = stored.first("Last-Modified") { fields.append("If-Modified-Since", lastModified) }
        return fields
    }

    /// §4.3.4: does this 304 select the stored response for update? For one stored response:
    /// a strong ETag in the 304 must strongly match the stored one, a weak one weakly match;
    /// with no ETag, a Last-Modified must equal the stored one; a 304 with no validator applies
    /// only to a stored response with none either. When it does not apply, the cache must not
    /// use it: the data path then fetches again without conditions.
    public static func isNotModifiedApplicable(notModified: HeaderFields, stored: HeaderFields) -> Bool {
        let storedTag = stored.first("ETag").flatMap { EntityTag($0) }
        if let value = notModified.first("ETag") {
            guard let tag = EntityTag(value), let storedTag else { return false }
            return tag.isWeak ? tag.weaklyMatches(storedTag) : tag.stronglyMatches(storedTag)
        }
        // `now` only places RFC 850's two-digit years; one reference for both keeps equal dates equal.
        let storedModified = lastModified(stored, now: 0)
        if notModified.contains("Last-Modified") {
            guard let modified = lastModified(notModified, now: 0), let storedModified else { return false }
            return modified == storedModified
        }
        return storedTag == nil && storedModified == nil
    }

    /// §3.2: each field of the 304 replaces every stored line of that name, except
    /// Content-Length (the stored content does not change) and Content-Range, which describe
    /// the stored bytes rather than the resource. The caller has already dropped what §3.1
    /// keeps out of storage (see `StoredResponse.storableFields`).
    public static func updatedFields(stored: HeaderFields, notModified: HeaderFields) -> HeaderFields {
        let update = notModified.removing(notUpdated)
        var updated = stored.removing(update.map(\.name))
        for field in update { updated.append(field.name, field.value) }
        return updated
    }

    static let notUpdated = ["content-length", "content-range"]

    /// How the cache answers a client's conditional GET or HEAD from a stored response it may
    /// reuse (§4.3.2).
    public enum ConditionalAnswer: Sendable, Equatable {
        /// 304 with these fields (RFC 9110 §15.4.5); the data path adds Age.
        case notModified(HeaderFields)
        /// The full stored response.
        case full
    }

    /// §4.3.2 with RFC 9110 §13.2.2's precedence: If-Match and If-Unmodified-Since are for the
    /// origin and not evaluated; If-None-Match (weak comparison, §13.1.2) decides when present;
    /// otherwise If-Modified-Since (GET and HEAD only, ignored unless one valid date) compares
    /// with the stored Last-Modified, else its Date, else when it was received. Only stored
    /// 200 responses are answered with 304.
    public static func answer(method: String, request: HeaderFields, stored: StoredResponse) -> ConditionalAnswer {
        guard stored.status == 200, method == "GET" || method == "HEAD" else { return .full }
        if request.contains("If-None-Match") {
            let storedTag = stored.headers.first("ETag").flatMap { EntityTag($0) }
            let members = request.listMembers("If-None-Match")
            let matches: Bool
            if members.contains("*") {
                matches = true  // A current representation exists: we hold it.
            } else {
                let tags = request.values("If-None-Match").compactMap { EntityTag.list($0) }.joined()
                matches = storedTag.map { stored in tags.contains { $0.weaklyMatches(stored) } } ?? false
            }
            return matches ? .notModified(notModifiedFields(stored.headers)) : .full
        }
        let sinceValues = request.values("If-Modified-Since")
        guard sinceValues.count == 1, let since = HTTPDate.parse(sinceValues[0], now: stored.responseTime) else { return .full }
        let modified = lastModified(stored.headers, now: stored.responseTime) ?? Freshness.dateValue(stored.headers, responseTime: stored.responseTime)
        return modified <= since ? .notModified(notModifiedFields(stored.headers)) : .full
    }

    /// RFC 9110 §15.4.5: the fields a 200 would have carried that a 304 must repeat, and
    /// Last-Modified when there is no ETag to guide the client's cache update.
    public static func notModifiedFields(_ stored: HeaderFields) -> HeaderFields {
        var names: Set<String> = ["cache-control", "content-location", "date", "etag", "expires", "vary"]
        if !stored.contains("ETag") { names.insert("last-modified") }
        return HeaderFields(stored.fields.filter { names.contains(FieldSyntax.lowercased($0.name)) })
    }

    private static func lastModified(_ headers: HeaderFields, now: Int64) -> Int64? {
        headers.first("Last-Modified").flatMap { HTTPDate.parse($0, now: now) }
    }
}
