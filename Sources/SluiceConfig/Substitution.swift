/// `${VAR}` and `${VAR:-default}` in scalar values, resolved from an injected environment.
/// It runs per scalar after parsing, so a variable's value is always plain text and can never
/// add keys or structure to the document. `$${` is a literal `${`.
enum Substitution {
    /// Returns the substituted text, or the message of an issue.
    static func apply(_ text: String, environment: [String: String]) -> Result<String, Failure> {
        guard text.utf8.contains(UInt8(ascii: "$")) else { return .success(text) }
        var output = ""
        var index = text.startIndex
        while index < text.endIndex {
            let rest = text[index...]
            if rest.hasPrefix("$${") {
                output += "${"
                index = text.index(index, offsetBy: 3)
            } else if rest.hasPrefix("${") {
                let bodyStart = text.index(index, offsetBy: 2)
                guard let close = text[bodyStart...].firstIndex(of: "}") else {
                    return .failure(Failure("unterminated \"${\" (write \"$${\" for a literal \"${\")"))
                }
                switch resolve(text[bodyStart..<close], environment: environment) {
                case .success(let value): output += value
                case .failure(let failure): return .failure(failure)
                }
                index = text.index(after: close)
            } else {
                output.append(text[index])
                index = text.index(after: index)
            }
        }
        return .success(output)
    }

    struct Failure: Error, Equatable {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// `NAME` or `NAME:-default`. As in the shell, the default also replaces an empty value.
    private static func resolve(_ body: Substring, environment: [String: String]) -> Result<String, Failure> {
        var name = body
        var fallback: Substring?
        if let separator = body.firstRange(of: ":-") {
            name = body[..<separator.lowerBound]
            fallback = body[separator.upperBound...]
        }
        guard isValidName(name) else {
            return .failure(Failure("invalid environment variable name \"\(name)\" in \"${\(body)}\""))
        }
        if let value = environment[String(name)], !(fallback != nil && value.isEmpty) {
            return .success(value)
        }
        guard let fallback else {
            return .failure(Failure("environment variable \"\(name)\" is not set"))
        }
        return .success(String(fallback))
    }

    private static func isValidName(_ name: Substring) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}
