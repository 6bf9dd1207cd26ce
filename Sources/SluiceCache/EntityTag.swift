/// An entity tag (RFC 9110 §8.8.3): `"xyzzy"` or weak `W/"xyzzy"`.
public struct EntityTag: Sendable, Hashable {
    /// The characters between the quotes.
    public var opaqueTag: String
    public var isWeak: Bool

    public init(opaqueTag: String, isWeak: Bool = false) {
        self.opaqueTag = opaqueTag
        self.isWeak = isWeak
    }

    /// One entity tag, nil unless `text` is exactly one (surrounding OWS allowed).
    public init?(_ text: some StringProtocol) {
        guard let tags = Self.list(text), tags.count == 1 else { return nil }
        self = tags[0]
    }

    /// The field value: `W/"…"` or `"…"`.
    public var fieldValue: String { (isWeak ? "W/" : "") + "\"" + opaqueTag + "\"" }

    /// §8.8.3.2 weak comparison: the opaque tags are equal, weak or not.
    public func weaklyMatches(_ other: EntityTag) -> Bool { opaqueTag == other.opaqueTag }

    /// §8.8.3.2 strong comparison: both strong and the opaque tags equal.
    public func stronglyMatches(_ other: EntityTag) -> Bool { !isWeak && !other.isWeak && opaqueTag == other.opaqueTag }

    /// `#entity-tag` (as in If-None-Match): nil if any member is malformed. A comma may appear
    /// inside a tag (etagc allows it), so this is not a plain comma split; nor are there
    /// escapes, so a backslash is an ordinary character.
    public static func list(_ text: some StringProtocol) -> [EntityTag]? {
        let bytes = Array(text.utf8)
        var tags: [EntityTag] = []
        var index = 0
        while true {
            while index < bytes.count, bytes[index] == FieldSyntax.space || bytes[index] == FieldSyntax.tab || bytes[index] == FieldSyntax.comma {
                index += 1
            }
            guard index < bytes.count else { return tags }
            var isWeak = false
            if bytes.count - index >= 2, bytes[index] == UInt8(ascii: "W"), bytes[index + 1] == UInt8(ascii: "/") {
                isWeak = true
                index += 2
            }
            guard index < bytes.count, bytes[index] == FieldSyntax.quote else { return nil }
            let start = index + 1
            guard let end = bytes[start...].firstIndex(of: FieldSyntax.quote),
                  bytes[start..<end].allSatisfy(isEntityTagCharacter) else { return nil }
            tags.append(EntityTag(opaqueTag: String(decoding: bytes[start..<end], as: UTF8.self), isWeak: isWeak))
            index = end + 1
            // Only OWS may separate the tag from the next comma.
            while index < bytes.count, bytes[index] == FieldSyntax.space || bytes[index] == FieldSyntax.tab { index += 1 }
            guard index == bytes.count || bytes[index] == FieldSyntax.comma else { return nil }
        }
    }

    /// `etagc = %x21 / %x23-7E / obs-text`.
    private static func isEntityTagCharacter(_ byte: UInt8) -> Bool {
        byte == 0x21 || (byte >= 0x23 && byte != 0x7F)
    }
}
