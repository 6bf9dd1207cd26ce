/// What besides the target URI a route's cache key holds, and which query parameters count.
public struct CacheKeyRule: Sendable, Equatable {
    public enum Query: Sendable, Equatable {
        /// The query as sent.
        case all
        /// Without these parameters (e.g. `utm_source`), compared by exact name.
        case dropping(Set<String>)
        /// Only these parameters.
        case keepingOnly(Set<String>)
        /// No query at all.
        case ignored
    }

    public var query: Query
    /// Orders the kept parameters by name (stable for repeated names), so `?a=1&b=2` and
    /// `?b=2&a=1` share an entry. Off by default: an origin may give the order meaning.
    public var sortsQueryParameters: Bool
    /// Request fields whose values join the key (e.g. `X-Tenant`).
    public var headers: [String]
    /// Cookies whose values join the key (e.g. `session_variant`).
    public var cookies: [String]

    public init(query: Query = .all, sortsQueryParameters: Bool = false, headers: [String] = [], cookies: [String] = []) {
        self.query = query
        self.sortsQueryParameters = sortsQueryParameters
        self.headers = headers
        self.cookies = cookies
    }
}

/// The primary cache key (RFC 9111 §2: at least the method-independent target URI; the method
/// is the data path's concern, see `Storability`). Deterministic: equal inputs give the same
/// string on every instance, so a purge fanned out to each instance names the same entries.
public struct CacheKey: Sendable, Hashable {
    /// `scheme://host[:port]/path[?query]` after the query rule: what invalidation (§4.4) and
    /// purges remove entries by, whatever headers or cookies the key adds.
    public let uri: String
    /// `uri`, then one line per header (`header:name=value`) and cookie (`cookie:name=value`),
    /// the name alone when absent: absent and empty differ.
    public let string: String

    public init(target: TargetURI, request: HeaderFields, rule: CacheKeyRule = CacheKeyRule()) {
        uri = Self.uri(target, rule: rule)
        guard !rule.headers.isEmpty || !rule.cookies.isEmpty else {
            string = uri
            return
        }
        var lines = [uri]
        for name in rule.headers.map(FieldSyntax.lowercased) {
            lines.append("header:" + name + (VaryKey.normalisedValue(of: name, in: request).map { "=" + $0 } ?? ""))
        }
        let jar = Self.cookies(request)
        for name in rule.cookies {
            lines.append("cookie:" + name + (jar.first { $0.name == name }.map { "=" + $0.value } ?? ""))
        }
        string = lines.joined(separator: "\n")
    }

    /// FNV-1a (64-bit) of `string`, for sharding and compact indexes. Not for security: anyone
    /// can make two keys collide, so an index must still compare `string`.
    public var hash: UInt64 { Self.fnv1a64(string) }

    /// The URI part of the key `rule` gives `target`.
    public static func uri(_ target: TargetURI, rule: CacheKeyRule) -> String {
        var uri = target
        uri.query = query(target.query, rule: rule)
        return uri.string
    }

    static func query(_ query: String?, rule: CacheKeyRule) -> String? {
        guard let query else { return nil }
        if rule.query == .all && !rule.sortsQueryParameters { return query }
        var parameters = query.split(separator: "&")
        func name(_ parameter: Substring) -> Substring { parameter.prefix { $0 != "=" } }
        switch rule.query {
        case .all: break
        case .ignored: return nil
        case .dropping(let names): parameters.removeAll { names.contains(String(name($0))) }
        case .keepingOnly(let names): parameters.removeAll { !names.contains(String(name($0))) }
        }
        if rule.sortsQueryParameters {
            parameters = parameters.enumerated()
                .sorted { (name($0.element), $0.offset) < (name($1.element), $1.offset) }
                .map(\.element)
        }
        return parameters.isEmpty ? nil : parameters.joined(separator: "&")
    }

    /// `Cookie` pairs in order over every line (RFC 6265 §5.4: `name=value` joined by "; ").
    static func cookies(_ request: HeaderFields) -> [(name: Substring, value: Substring)] {
        request.values("Cookie").flatMap { line in
            line.split(separator: ";").compactMap { pair in
                let pair = FieldSyntax.trimmed(pair)
                guard let equals = pair.firstIndex(of: "=") else { return nil }
                return (FieldSyntax.trimmed(pair[..<equals]), FieldSyntax.trimmed(pair[pair.index(after: equals)...]))
            }
        }
    }

    /// FNV-1a 64 of the UTF-8 bytes: offset basis 14695981039346656037, prime 1099511628211.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
