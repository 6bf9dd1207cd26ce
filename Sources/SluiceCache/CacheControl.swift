/// The Cache-Control directives of one message (RFC 9111 §5.2), request and response ones in one
/// value: each caller reads the directives that apply to its side (the request-only ones are
/// `maxStale`, `minFresh`, `onlyIfCached`; `maxAge`, `noCache`, `noStore` and `staleIfError`
/// exist on both sides with the meaning of that side).
///
/// Parsing follows RFC 9111 §5.2 and RFC 9110 §5.6: directive names are case-insensitive; an
/// argument may be a token or a quoted-string whatever the directive prefers (§5.2: recipients
/// "ought to accept both forms"); all Cache-Control lines form one list; unknown directives are
/// ignored (§5.2.3).
///
/// Duplicates and bad values, following §4.2.1 ("either the first occurrence should be used or
/// the response should be considered stale"; "the most restrictive directive should be
/// honored"; invalid freshness information is best taken as stale):
/// - a repeated directive with an argument keeps its first occurrence;
/// - an invalid delta-seconds (`max-age=abc`, `max-age=-1`, `max-age` with no argument) is 0,
///   which is the restrictive reading for every directive here: stale now, no stale window,
///   no extra staleness accepted;
/// - a value over 2^31 is 2^31 (§1.2.2);
/// - `no-cache` and `private` repeated merge their field names, and one unqualified occurrence
///   (or an empty or unreadable list) makes the directive apply to the whole response.
public struct CacheControl: Sendable, Equatable {
    /// What a `no-cache` or `private` directive covers.
    public enum Scope: Sendable, Equatable {
        case wholeResponse
        /// Only these header fields (lowercased names), in the order first listed.
        case fields([String])
    }

    /// A request's `max-stale` (§5.2.1.2): without an argument, any staleness is accepted.
    public enum MaxStale: Sendable, Equatable {
        case unlimited
        case seconds(Int64)
    }

    /// Response: freshness lifetime (§5.2.2.1). Request: oldest age the client accepts (§5.2.1.1).
    public var maxAge: Int64?
    /// `s-maxage` (§5.2.2.10): the lifetime for shared caches, over max-age and Expires.
    public var sharedMaxAge: Int64?
    /// Response (§5.2.2.4): reuse only after validation (or without the listed fields).
    /// Request (§5.2.1.4): the client wants validation; always `.wholeResponse`.
    public var noCache: Scope?
    /// §5.2.1.5 / §5.2.2.5.
    public var noStore = false
    /// `private` (§5.2.2.7): not for shared caches (or, with field names, not those fields).
    public var `private`: Scope?
    /// `public` (§5.2.2.9).
    public var `public` = false
    public var mustRevalidate = false
    public var proxyRevalidate = false
    public var mustUnderstand = false
    public var noTransform = false
    /// RFC 8246.
    public var immutable = false
    /// RFC 5861 §3 (response).
    public var staleWhileRevalidate: Int64?
    /// RFC 5861 §4 (request or response).
    public var staleIfError: Int64?
    /// Request (§5.2.1.2).
    public var maxStale: MaxStale?
    /// Request (§5.2.1.3): the client wants at least this many seconds of freshness left.
    public var minFresh: Int64?
    /// Request (§5.2.1.7): answer from storage or with 504, never from the origin.
    public var onlyIfCached = false

    public init() {}

    /// The directives of every Cache-Control line of `headers`, as one list.
    public init(_ headers: HeaderFields) {
        for value in headers.values("Cache-Control") { parse(value) }
    }

    /// The directives of one field value.
    public init(parsing value: String) {
        parse(value)
    }

    private mutating func parse(_ value: String) {
        for member in FieldSyntax.listMembers(value) {
            let name: String
            let argument: Substring?
            if let equals = member.firstIndex(of: "=") {
                name = FieldSyntax.lowercased(FieldSyntax.trimmed(member[..<equals]))
                argument = FieldSyntax.unquoted(FieldSyntax.trimmed(member[member.index(after: equals)...]))
            } else {
                name = FieldSyntax.lowercased(member)
                argument = nil
            }
            apply(name, argument)
        }
    }

    private mutating func apply(_ name: String, _ argument: Substring?) {
        switch name {
        case "max-age": maxAge = maxAge ?? Self.seconds(argument)
        case "s-maxage": sharedMaxAge = sharedMaxAge ?? Self.seconds(argument)
        case "stale-while-revalidate": staleWhileRevalidate = staleWhileRevalidate ?? Self.seconds(argument)
        case "stale-if-error": staleIfError = staleIfError ?? Self.seconds(argument)
        case "min-fresh": minFresh = minFresh ?? Self.seconds(argument)
        case "max-stale":
            if maxStale == nil { maxStale = argument.map { .seconds(Self.seconds($0)) } ?? .unlimited }
        case "no-cache": noCache = Self.merged(noCache, argument)
        case "private": `private` = Self.merged(`private`, argument)
        case "no-store": noStore = true
        case "public": `public` = true
        case "must-revalidate": mustRevalidate = true
        case "proxy-revalidate": proxyRevalidate = true
        case "must-understand": mustUnderstand = true
        case "no-transform": noTransform = true
        case "immutable": immutable = true
        case "only-if-cached": onlyIfCached = true
        default: break  // §5.2.3: unrecognised directives are ignored.
        }
    }

    /// A delta-seconds argument; absent or invalid reads as 0 (stale, see the type's comment).
    private static func seconds(_ argument: Substring?) -> Int64 {
        argument.flatMap(FieldSyntax.deltaSeconds) ?? 0
    }

    /// `existing` widened by one more occurrence of a field-name-list directive.
    private static func merged(_ existing: Scope?, _ argument: Substring?) -> Scope {
        guard existing != .wholeResponse, let argument else { return .wholeResponse }
        let listed = FieldSyntax.listMembers(String(argument)).filter(FieldSyntax.isToken).map(FieldSyntax.lowercased)
        guard !listed.isEmpty else { return .wholeResponse }
        var names = existing?.fieldNames ?? []
        for name in listed where !names.contains(name) { names.append(name) }
        return .fields(names)
    }
}

extension CacheControl.Scope {
    /// The listed field names, or none when the whole response is covered.
    public var fieldNames: [String] {
        if case .fields(let names) = self { return names }
        return []
    }
}
