/// The knobs of the cache's RFC 9111 decisions; the defaults are a shared cache that follows
/// the RFC as written.
///
/// Time throughout SluiceCache is whole Unix seconds (`Int64`): HTTP dates, Age and every
/// directive have one-second resolution, and Date/Expires comparisons need wall-clock time.
/// The caller passes the time in; nothing here reads a clock.
public struct CachePolicy: Sendable, Equatable {
    /// A shared cache (§1: the proxy serves many users) honours `s-maxage`, `proxy-revalidate`
    /// and `private`, and the Authorization rule of §3.5. Sluice is one; false is for tests
    /// and a possible private mode.
    public var isShared: Bool

    /// Status codes whose semantics the cache implements, for §3's "the cache understands the
    /// response status code" (which gates `must-understand`, §5.2.2.3). 206 and 304 are not
    /// in it: partial responses are not stored (no range support yet) and a 304 only ever
    /// freshens a stored response (§4.3.4), it is never stored on its own.
    public var understoodStatusCodes: Set<Int>

    /// Statuses a cache may store and reuse with heuristic freshness (RFC 9110 §15.1).
    public var heuristicallyCacheableStatusCodes: Set<Int>

    /// Upper bound on a heuristic lifetime (§4.2.2), seconds. One day: RFC 7234 required a
    /// warning past 24 hours of heuristic freshness, the convention caches kept; a wrong guess
    /// from a year-old Last-Modified then costs at most a day of staleness.
    public var maxHeuristicLifetime: Int64

    /// Heuristic lifetime as a percentage of the time since Last-Modified (§4.2.2's "typical
    /// setting of this fraction might be 10%").
    public var heuristicPercent: Int64

    /// Seconds a stale response may be served when the origin fails and the response carries
    /// no `stale-if-error` of its own: the "out-of-band contract" of §4.2.4. 0 (the default)
    /// serves stale on error only when the response or request says so.
    public var staleIfErrorByDefault: Int64

    public init(
        isShared: Bool = true,
        understoodStatusCodes: Set<Int> = CachePolicy.rfc9110StatusCodes,
        heuristicallyCacheableStatusCodes: Set<Int> = CachePolicy.heuristicallyCacheable,
        maxHeuristicLifetime: Int64 = 86_400,
        heuristicPercent: Int64 = 10,
        staleIfErrorByDefault: Int64 = 0
    ) {
        self.isShared = isShared
        self.understoodStatusCodes = understoodStatusCodes
        self.heuristicallyCacheableStatusCodes = heuristicallyCacheableStatusCodes
        self.maxHeuristicLifetime = maxHeuristicLifetime
        self.heuristicPercent = heuristicPercent
        self.staleIfErrorByDefault = staleIfErrorByDefault
    }

    /// RFC 9110 §15.1: 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414 and 501.
    public static let heuristicallyCacheable: Set<Int> = [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]

    /// The final status codes RFC 9110 §15 defines, less 206 and 304 (see
    /// `understoodStatusCodes`).
    public static let rfc9110StatusCodes: Set<Int> = Set([200, 201, 202, 203, 204, 205])
        .union(300...308).subtracting([304, 306])
        .union(400...417).union([421, 422, 426])
        .union(500...505)
}
