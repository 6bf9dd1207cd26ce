/// An http or https URI as the cache keys and compares it: scheme and host lowercased, the
/// default port left out, an empty path as "/" (RFC 9110 §4.2.3), no userinfo (§4.2.4 deprecates
/// it) and no fragment (never sent, never part of a key).
public struct TargetURI: Sendable, Hashable {
    public var scheme: String
    /// A registered name or IP literal; an IPv6 literal keeps its brackets.
    public var host: String
    /// nil for the scheme's default (80, 443).
    public var port: Int?
    public var path: String
    public var query: String?

    public init(scheme: String, host: String, port: Int? = nil, path: String, query: String? = nil) {
        self.scheme = FieldSyntax.lowercased(scheme)
        self.host = FieldSyntax.lowercased(host)
        self.port = port == Self.defaultPort(self.scheme) ? nil : port
        self.path = path.isEmpty ? "/" : path
        self.query = query
    }

    /// An absolute http(s) URI; nil for other schemes, relative references or a bad authority.
    /// The path is kept as sent, dot segments included: the key must name what the origin was
    /// asked for, or `/x/../b` answered by an origin that does not normalise could be stored
    /// as `/b`.
    public init?(_ absolute: String) {
        guard let uri = Self.resolved(URIReference(absolute), base: nil, removingDots: false) else { return nil }
        self = uri
    }

    /// A request's target: `requestTarget` in origin-form (`/path?query`, with `authority`
    /// from Host) or absolute-form (RFC 9112 §3.2); nil for `*` and authority-form, and for a
    /// Host that is not `host[:port]` (RFC 9110 §7.2), which could otherwise smuggle a path or
    /// userinfo into the key.
    public init?(scheme: String, authority: String, requestTarget: String) {
        guard requestTarget.utf8.first == UInt8(ascii: "/") else {
            self.init(requestTarget)
            return
        }
        // Origin-form, on every cached request: split by bytes, with no URI text to build
        // and parse again (as the absolute form must be).
        let forbidden = { (byte: UInt8) in
            byte == UInt8(ascii: "@") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")
        }
        guard !authority.isEmpty, !authority.utf8.contains(where: forbidden) else { return nil }
        let scheme = FieldSyntax.lowercased(scheme)
        guard Self.defaultPort(scheme) != nil, let (host, port) = Self.hostAndPort(Substring(authority)) else { return nil }
        var target = Substring(requestTarget)
        if let hash = target.utf8.firstIndex(of: UInt8(ascii: "#")) { target = target[..<hash] }
        if let question = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            self.init(scheme: scheme, host: host, port: port, path: String(target[..<question]),
                      query: String(target[target.utf8.index(after: question)...]))
        } else {
            self.init(scheme: scheme, host: host, port: port, path: String(target))
        }
    }

    /// `reference` (a Location or Content-Location value) resolved against this URI
    /// (RFC 3986 §5.2); nil when the result is not an http(s) URI.
    public func resolving(_ reference: String) -> TargetURI? {
        Self.resolved(URIReference(reference), base: self, removingDots: true)
    }

    /// `scheme://host[:port]`: equal origins mean the same scheme, host and port
    /// (RFC 9110 §4.3.1).
    public var origin: String { "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "") }

    public var string: String { origin + path + (query.map { "?\($0)" } ?? "") }

    static func defaultPort(_ scheme: String) -> Int? {
        switch scheme {
        case "http": return 80
        case "https": return 443
        default: return nil
        }
    }

    /// RFC 3986 §5.2.2, strict (a reference with a scheme is never relative).
    private static func resolved(_ reference: URIReference, base: TargetURI?, removingDots: Bool) -> TargetURI? {
        var scheme: String
        var authority: Substring
        var path: String
        var query = reference.query.map(String.init)
        if let referenceScheme = reference.scheme {
            guard let referenceAuthority = reference.authority else { return nil }
            scheme = String(referenceScheme)
            authority = referenceAuthority
            path = removingDots ? removingDotSegments(String(reference.path)) : String(reference.path)
        } else {
            guard let base else { return nil }
            scheme = base.scheme
            authority = Substring(base.host + (base.port.map { ":\($0)" } ?? ""))
            if let referenceAuthority = reference.authority {
                authority = referenceAuthority
                path = removingDotSegments(String(reference.path))
            } else if reference.path.isEmpty {
                path = base.path
                if reference.query == nil { query = base.query }
            } else if reference.path.hasPrefix("/") {
                path = removingDotSegments(String(reference.path))
            } else {
                // §5.2.3 merge: the base has an authority and a non-empty path ("/" at least).
                let directory = base.path[...(base.path.lastIndex(of: "/") ?? base.path.startIndex)]
                path = removingDotSegments(String(directory) + String(reference.path))
            }
        }
        scheme = FieldSyntax.lowercased(scheme)
        guard defaultPort(scheme) != nil, let (host, port) = hostAndPort(authority) else { return nil }
        return TargetURI(scheme: scheme, host: host, port: port, path: path, query: query)
    }

    /// `[ userinfo "@" ] host [ ":" port ]`; an empty port is the default (RFC 3986 §6.2.3).
    private static func hostAndPort(_ authority: Substring) -> (String, Int?)? {
        let hostPort = authority.utf8.lastIndex(of: UInt8(ascii: "@")).map { authority[authority.utf8.index(after: $0)...] } ?? authority
        let portSeparator = hostPort.utf8.lastIndex(of: UInt8(ascii: ":")).flatMap { colon in
            hostPort.utf8[colon...].contains(UInt8(ascii: "]")) ? nil : colon  // a colon inside an IPv6 literal
        }
        guard let portSeparator else { return hostPort.isEmpty ? nil : (String(hostPort), nil) }
        let host = hostPort[..<portSeparator]
        let digits = hostPort[hostPort.utf8.index(after: portSeparator)...]
        guard !host.isEmpty else { return nil }
        if digits.isEmpty { return (String(host), nil) }
        guard digits.utf8.count <= 5, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let port = Int(digits), port <= 65_535
        else { return nil }
        return (String(host), port)
    }

    /// RFC 3986 §5.2.4.
    static func removingDotSegments(_ path: String) -> String {
        var input = Substring(path)
        var output: [Substring] = []  // Each element a segment with its leading "/", if any.
        while !input.isEmpty {
            if input.hasPrefix("../") {
                input = input.dropFirst(3)
            } else if input.hasPrefix("./") {
                input = input.dropFirst(2)
            } else if input.hasPrefix("/./") {
                input = input.dropFirst(2)
            } else if input == "/." {
                input = "/"
            } else if input.hasPrefix("/../") {
                input = input.dropFirst(3)
                _ = output.popLast()
            } else if input == "/.." {
                input = "/"
                _ = output.popLast()
            } else if input == "." || input == ".." {
                input = ""
            } else {
                let searchStart = input.hasPrefix("/") ? input.index(after: input.startIndex) : input.startIndex
                let end = input[searchStart...].firstIndex(of: "/") ?? input.endIndex
                output.append(input[..<end])
                input = input[end...]
            }
        }
        return output.joined()
    }
}

/// RFC 3986 Appendix B's split: `[scheme ":"] ["//" authority] path ["?" query] ["#" fragment]`.
private struct URIReference {
    var scheme: Substring?
    var authority: Substring?
    var path: Substring
    var query: Substring?

    init(_ text: String) {
        var rest = Substring(text)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        if let colon = rest.firstIndex(where: { $0 == ":" || $0 == "/" || $0 == "?" }), rest[colon] == ":",
           Self.isScheme(rest[..<colon]) {
            scheme = rest[..<colon]
            rest = rest[rest.index(after: colon)...]
        }
        if let question = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        if rest.hasPrefix("//") {
            let afterSlashes = rest.dropFirst(2)
            let end = afterSlashes.firstIndex(of: "/") ?? afterSlashes.endIndex
            authority = afterSlashes[..<end]
            rest = afterSlashes[end...]
        }
        path = rest
    }

    /// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
    private static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, (first | 0x20) >= 0x61, (first | 0x20) <= 0x7A else { return false }
        return text.utf8.allSatisfy { byte in
            ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
    }
}
