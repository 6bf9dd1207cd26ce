/// Freshness lifetime (RFC 9111 §4.2.1, §4.2.2) and age (§4.2.3). All times are Unix seconds;
/// `requestTime` is when the cache sent the request upstream, `responseTime` when the response
/// arrived.
public enum Freshness {
    /// Where a lifetime came from, most authoritative first (§4.2.1).
    public enum Source: String, Sendable, Equatable {
        case sharedMaxAge = "s-maxage"
        case maxAge = "max-age"
        case expires
        case heuristic
        /// No explicit expiration and no heuristic: stale on arrival.
        case none
    }

    public struct Lifetime: Sendable, Equatable {
        public var seconds: Int64
        public var source: Source

        public init(seconds: Int64, source: Source) {
            self.seconds = seconds
            self.source = source
        }
    }

    /// §4.2.1: s-maxage (shared caches), else max-age, else Expires − Date; failing all, the
    /// §4.2.2 heuristic for statuses cacheable by default or `public` responses:
    /// `heuristicPercent` of (Date − Last-Modified), at most `maxHeuristicLifetime`.
    /// An Expires that is not a valid date means "already expired" (§5.3).
    public static func lifetime(status: Int, response: HeaderFields, responseTime: Int64, policy: CachePolicy) -> Lifetime {
        let directives = CacheControl(response)
        if policy.isShared, let sharedMaxAge = directives.sharedMaxAge {
            return Lifetime(seconds: sharedMaxAge, source: .sharedMaxAge)
        }
        if let maxAge = directives.maxAge { return Lifetime(seconds: maxAge, source: .maxAge) }
        let date = dateValue(response, responseTime: responseTime)
        if let expires = response.first("Expires") {
            guard let expiry = HTTPDate.parse(expires, now: responseTime) else { return Lifetime(seconds: 0, source: .expires) }
            return Lifetime(seconds: max(0, expiry - date), source: .expires)
        }
        guard policy.heuristicallyCacheableStatusCodes.contains(status) || directives.public,
              let modified = response.first("Last-Modified").flatMap({ HTTPDate.parse($0, now: responseTime) })
        else { return Lifetime(seconds: 0, source: .none) }
        let sinceModified = max(0, date - modified)
        return Lifetime(seconds: min(sinceModified * policy.heuristicPercent / 100, policy.maxHeuristicLifetime), source: .heuristic)
    }

    /// The Date field's time, or `responseTime` when Date is missing or invalid (RFC 9110
    /// §6.6.1: a recipient uses the time it received the message).
    public static func dateValue(_ response: HeaderFields, responseTime: Int64) -> Int64 {
        response.first("Date").flatMap { HTTPDate.parse($0, now: responseTime) } ?? responseTime
    }

    /// The Age field's seconds (§5.1): the first member of a list, and 0 when the field is
    /// absent or invalid ("a cache SHOULD ignore the field").
    public static func ageValue(_ response: HeaderFields) -> Int64 {
        response.listMembers("Age").first.flatMap(FieldSyntax.deltaSeconds) ?? 0
    }

    /// §4.2.3, at the time the response arrives:
    /// apparent_age = max(0, response_time − date_value) (a Date ahead of our clock counts 0);
    /// corrected_age_value = age_value + response_delay, response_delay = response_time − request_time;
    /// corrected_initial_age = max(apparent_age, corrected_age_value), so a skewed upstream
    /// clock can only make the response older, never younger.
    public static func correctedInitialAge(response: HeaderFields, requestTime: Int64, responseTime: Int64) -> Int64 {
        let apparentAge = max(0, responseTime - dateValue(response, responseTime: responseTime))
        let responseDelay = max(0, responseTime - requestTime)
        let correctedAgeValue = ageValue(response) + responseDelay
        return min(max(apparentAge, correctedAgeValue), FieldSyntax.deltaSecondsLimit)
    }

    /// §4.2.3: current_age = corrected_initial_age + resident_time, resident_time =
    /// now − response_time (never negative if the clock steps back).
    public static func currentAge(correctedInitialAge: Int64, responseTime: Int64, now: Int64) -> Int64 {
        correctedInitialAge + max(0, now - responseTime)
    }
}
