/// Why a cache forwarded a request: RFC 9211 §2.2's `fwd` values.
public enum ForwardReason: String, Sendable, CaseIterable {
    /// Configured not to handle this request.
    case bypass
    /// The method's semantics require forwarding.
    case method
    /// Nothing stored for the URI.
    case uriMiss = "uri-miss"
    /// Something stored for the URI, but no variant matched (Vary).
    case varyMiss = "vary-miss"
    /// Nothing usable, when uri-miss and vary-miss cannot be told apart.
    case miss
    /// A fresh response was selected but the request's directives did not allow it.
    case request
    /// The selected response was stale (or had to be validated).
    case stale
    /// A partial response was selected but did not cover the request.
    case partial
}

/// This cache's member of the `Cache-Status` field (RFC 9211), e.g. `Sluice; hit; ttl=30`,
/// `Sluice; fwd=uri-miss; stored`, `Sluice; fwd=stale; fwd-status=304; ttl=60`.
public struct CacheStatus: Sendable, Equatable {
    /// An sf-token when it is one (RFC 8941 §3.3.4), otherwise sent as an sf-string.
    public var cacheName: String
    /// Answered from the cache without going to the origin (§2.1).
    public var hit: Bool
    public var forward: ForwardReason?
    /// The status the origin answered the forwarded request with (§2.3).
    public var forwardStatus: Int?
    /// Freshness left, negative when stale (§2.4).
    public var timeToLive: Int64?
    /// The forwarded response was stored (§2.5).
    public var stored: Bool
    /// The request was collapsed into another one already in flight (§2.6).
    public var collapsed: Bool
    /// The cache key, for debugging (§2.7).
    public var key: String?
    /// Implementation detail, e.g. a `NotStorableReason` (§2.8).
    public var detail: String?

    public init(
        cacheName: String = "Sluice",
        hit: Bool = false,
        forward: ForwardReason? = nil,
        forwardStatus: Int? = nil,
        timeToLive: Int64? = nil,
        stored: Bool = false,
        collapsed: Bool = false,
        key: String? = nil,
        detail: String? = nil
    ) {
        self.cacheName = cacheName
        self.hit = hit
        self.forward = forward
        self.forwardStatus = forwardStatus
        self.timeToLive = timeToLive
        self.stored = stored
        self.collapsed = collapsed
        self.key = key
        self.detail = detail
    }

    /// The list member: name, then the parameters that are set, in RFC 9211's order. A "; "
    /// separates parameters as in RFC 9211's examples (RFC 8941 §4.2.3.2 lets parsers skip
    /// the space); false booleans are left out (§2).
    public var fieldValue: String {
        var value = Self.tokenOrString(cacheName)
        if hit { value += "; hit" }
        if let forward { value += "; fwd=\(forward.rawValue)" }
        if let forwardStatus { value += "; fwd-status=\(forwardStatus)" }
        if let timeToLive { value += "; ttl=\(timeToLive)" }
        if stored { value += "; stored" }
        if collapsed { value += "; collapsed" }
        if let key { value += "; key=\(Self.string(key))" }
        if let detail { value += "; detail=\(Self.tokenOrString(detail))" }
        return value
    }

    /// The field value with this cache added after what upstream caches reported: members go
    /// from the origin's side to the client's (§2).
    public func appended(to upstream: String?) -> String {
        guard let upstream, !FieldSyntax.trimmed(Substring(upstream)).isEmpty else { return fieldValue }
        return upstream + ", " + fieldValue
    }

    /// RFC 8941 §3.3.4: `sf-token = ( ALPHA / "*" ) *( tchar / ":" / "/" )`.
    static func isToken(_ text: String) -> Bool {
        guard let first = text.utf8.first,
              (first >= 0x41 && first <= 0x5A) || (first >= 0x61 && first <= 0x7A) || first == UInt8(ascii: "*")
        else { return false }
        return text.utf8.allSatisfy { FieldSyntax.isTokenCharacter($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") }
    }

    static func tokenOrString(_ text: String) -> String { isToken(text) ? text : string(text) }

    /// RFC 8941 §3.3.3: an sf-string holds printable ASCII with `"` and `\` escaped; anything
    /// else cannot be sent in one and becomes `?`.
    static func string(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\": result += "\\" + String(scalar)
            case " "..."~": result.unicodeScalars.append(scalar)
            default: result += "?"
            }
        }
        return result + "\""
    }
}
