/// A strict RFC 8259 JSON reader producing `ConfigNode`s. Written by hand rather than using
/// JSONSerialization because that loses key order and line numbers, which issues need.
/// Numbers keep their literal text; `true`/`false` become the scalars "true"/"false".
enum JSONTree {
    static func parse(_ text: String, file: String) throws(ConfigError) -> (root: ConfigNode, issues: [ConfigIssue]) {
        var parser = JSONParser(bytes: Array(text.utf8), file: file)
        parser.skipWhitespace()
        // An empty file means "all defaults", as it does for YAML.
        guard !parser.atEnd else { return (.null(line: nil), []) }
        let root = try parser.value(at: .root, depth: 0)
        parser.skipWhitespace()
        guard parser.atEnd else { throw parser.failure("unexpected content after the top-level value") }
        return (root, parser.issues)
    }
}

private struct JSONParser {
    /// Deeper documents are certainly not configuration; the limit keeps recursion bounded.
    static let maximumDepth = 128

    let bytes: [UInt8]
    let file: String
    var position = 0
    var line = 1
    var issues: [ConfigIssue] = []

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { atEnd ? nil : bytes[position] }

    func failure(_ message: String) -> ConfigError {
        ConfigError(issues: [ConfigIssue(file: file, line: line, path: "(root)", message: "invalid JSON: \(message)")])
    }

    mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            if byte == 0x0A { line += 1 }
            position += 1
        }
    }

    mutating func value(at path: ConfigPath, depth: Int) throws(ConfigError) -> ConfigNode {
        guard depth < Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth) levels") }
        skipWhitespace()
        guard let byte = peek else { throw failure("unexpected end of input, expected a value") }
        let start = line
        switch byte {
        case UInt8(ascii: "{"): return try object(at: path, depth: depth)
        case UInt8(ascii: "["): return try array(at: path, depth: depth)
        case UInt8(ascii: "\""): return ConfigNode(kind: .scalar(try string()), line: start)
        case UInt8(ascii: "t"): try literal("true"); return ConfigNode(kind: .scalar("true"), line: start)
        case UInt8(ascii: "f"): try literal("false"); return ConfigNode(kind: .scalar("false"), line: start)
        case UInt8(ascii: "n"): try literal("null"); return .null(line: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return ConfigNode(kind: .scalar(try number()), line: start)
        default: throw failure("unexpected \(describe(byte)), expected a value")
        }
    }

    private mutating func object(at path: ConfigPath, depth: Int) throws(ConfigError) -> ConfigNode {
        let start = line
        position += 1
        var entries: [ConfigNode.Entry] = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            position += 1
            return ConfigNode(kind: .mapping([]), line: start)
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let keyLine = line
            let key = try string()
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw failure("expected ':' after key \"\(key)\"") }
            position += 1
            let item = try value(at: path.key(key), depth: depth + 1)
            entries.append(ConfigNode.Entry(key: key, keyLine: keyLine, value: item))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                let kept = ConfigTree.deduplicated(entries, at: path, file: file, issues: &issues)
                return ConfigNode(kind: .mapping(kept), line: start)
            default: throw failure("expected ',' or '}' in object")
            }
        }
    }

    private mutating func array(at path: ConfigPath, depth: Int) throws(ConfigError) -> ConfigNode {
        let start = line
        position += 1
        var items: [ConfigNode] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            position += 1
            return ConfigNode(kind: .list([]), line: start)
        }
        while true {
            items.append(try value(at: path.index(items.count), depth: depth + 1))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return ConfigNode(kind: .list(items), line: start)
            default: throw failure("expected ',' or ']' in array")
            }
        }
    }

    private mutating func literal(_ word: String) throws(ConfigError) {
        let expected = Array(word.utf8)
        guard bytes.count - position >= expected.count,
              Array(bytes[position..<position + expected.count]) == expected
        else { throw failure("unexpected \(describe(bytes[position])), expected a value") }
        position += expected.count
    }

    private mutating func number() throws(ConfigError) -> String {
        let start = position
        func digits(_ parser: inout JSONParser) -> Int {
            let first = parser.position
            while let byte = parser.peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { parser.position += 1 }
            return parser.position - first
        }
        if peek == UInt8(ascii: "-") { position += 1 }
        let leadingZero = peek == UInt8(ascii: "0")
        let integerDigits = digits(&self)
        guard integerDigits > 0, !(leadingZero && integerDigits > 1) else { throw failure("malformed number") }
        if peek == UInt8(ascii: ".") {
            position += 1
            guard digits(&self) > 0 else { throw failure("malformed number") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            position += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
            guard digits(&self) > 0 else { throw failure("malformed number") }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func string() throws(ConfigError) -> String {
        position += 1
        var output: [UInt8] = []
        while true {
            guard let byte = peek else { throw failure("unterminated string") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: output, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escape = peek else { throw failure("unterminated string") }
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0C)
                case UInt8(ascii: "n"): output.append(0x0A)
                case UInt8(ascii: "r"): output.append(0x0D)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "u"): output.append(contentsOf: try unicodeEscape())
                default: throw failure("invalid escape \"\\\(Character(Unicode.Scalar(escape)))\" in string")
                }
            case 0x00..<0x20:
                throw failure("control character in string (escape it)")
            default:
                output.append(byte)
            }
        }
    }

    /// `\uXXXX`, joining a UTF-16 surrogate pair into one scalar.
    private mutating func unicodeEscape() throws(ConfigError) -> [UInt8] {
        let high = try hex4()
        var value = UInt32(high)
        if (0xD800..<0xDC00).contains(high) {
            guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
                  bytes[position + 1] == UInt8(ascii: "u")
            else { throw failure("unpaired UTF-16 surrogate in string") }
            position += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired UTF-16 surrogate in string") }
            value = 0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
        } else if (0xDC00..<0xE000).contains(high) {
            throw failure("unpaired UTF-16 surrogate in string")
        }
        guard let scalar = Unicode.Scalar(value) else { throw failure("invalid \\u escape") }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func hex4() throws(ConfigError) -> UInt16 {
        // Checked digit by digit: UInt16(_:radix:) would also accept a leading "+".
        guard bytes.count - position >= 4,
              bytes[position..<position + 4].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
              let value = UInt16(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
        else { throw failure("invalid \\u escape") }
        position += 4
        return value
    }

    private func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }
}
