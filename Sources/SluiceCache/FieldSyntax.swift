/// The pieces of RFC 9110 field syntax the cache reads: lists, tokens, quoted strings and
/// delta-seconds. Bytes, not Characters: field syntax is ASCII, and a value's other octets
/// (obs-text) pass through untouched.
enum FieldSyntax {
    /// RFC 9111 §1.2.2: a delta-seconds too large to represent, or a calculation that
    /// overflows, is taken as 2^31.
    static let deltaSecondsLimit: Int64 = 2_147_483_648

    /// `1*DIGIT` as seconds, clamped to 2^31; nil when empty or not all digits ("-1", "5s", "+5").
    static func deltaSeconds(_ text: Substring) -> Int64? {
        guard !text.isEmpty else { return nil }
        var seconds: Int64 = 0
        for byte in text.utf8 {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            seconds = min(seconds * 10 + Int64(byte - 0x30), deltaSecondsLimit)
        }
        return seconds
    }

    /// The members of one list field value (RFC 9110 §5.6.1): commas inside a quoted string
    /// (§5.6.4, with its backslash escapes) do not separate; OWS is trimmed; empties dropped.
    static func listMembers(_ value: String) -> [Substring] {
        var members: [Substring] = []
        let bytes = value.utf8
        var start = bytes.startIndex
        var index = bytes.startIndex
        var inQuotes = false
        var escaped = false
        while index < bytes.endIndex {
            let byte = bytes[index]
            if inQuotes {
                if escaped { escaped = false } else if byte == backslash { escaped = true } else if byte == quote { inQuotes = false }
            } else if byte == quote {
                inQuotes = true
            } else if byte == comma {
                let member = trimmed(value[start..<index])
                if !member.isEmpty { members.append(member) }
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        let last = trimmed(value[start...])
        if !last.isEmpty { members.append(last) }
        return members
    }

    /// `text` without leading and trailing OWS (SP and HTAB).
    static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.utf8.first, first == space || first == tab { text = text.dropFirst() }
        while let last = text.utf8.last, last == space || last == tab { text = text.dropLast() }
        return text
    }

    /// The content of a quoted-string with its quoted-pairs resolved, or `text` itself when it
    /// is not quoted (a token argument). An unterminated quote is taken literally after it.
    static func unquoted(_ text: Substring) -> Substring {
        guard text.utf8.first == quote else { return text }
        var body = text.dropFirst()
        if body.utf8.last == quote, !body.isEmpty { body = body.dropLast() }
        guard body.utf8.contains(backslash) else { return body }
        var result: [UInt8] = []
        var escaped = false
        for byte in body.utf8 {
            if !escaped && byte == backslash { escaped = true; continue }
            escaped = false
            result.append(byte)
        }
        return Substring(String(decoding: result, as: UTF8.self))
    }

    /// RFC 9110 §5.6.2: `token = 1*tchar`.
    static func isToken(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenCharacter)
    }

    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// ASCII-only lowercasing: field names and directive names are ASCII tokens, and Unicode
    /// case mapping would both cost more and fold characters RFC 9110 never folds.
    static func lowercased(_ text: some StringProtocol) -> String {
        guard text.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return String(text) }
        return String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// Field names compare case-insensitively (RFC 9110 §5.1).
    static func namesEqual(_ left: some StringProtocol, _ right: some StringProtocol) -> Bool {
        left.utf8.count == right.utf8.count
            && zip(left.utf8, right.utf8).allSatisfy { foldCase($0) == foldCase($1) }
    }

    private static func foldCase(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte }

    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let comma = UInt8(ascii: ",")
}
