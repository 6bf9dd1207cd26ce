/// How one scalar's text becomes a typed value, with the wording issues use. Keeping the
/// messages here gives every key of one type the same phrasing.
struct Conversion<T> {
    /// Noun phrase for "expected …, got a list".
    let expected: String
    let convert: (String) -> Result<T, Substitution.Failure>

    init(expected: String, convert: @escaping (String) -> Result<T, Substitution.Failure>) {
        self.expected = expected
        self.convert = convert
    }

    /// The standard rejection: `expected an integer, got "abc"`.
    static func rejected(_ expected: String, _ text: String) -> Result<T, Substitution.Failure> {
        .failure(Substitution.Failure("expected \(expected), got \"\(text)\""))
    }

    /// A further check on a converted value; `check` returns the message, or nil when fine.
    func checked(_ check: @escaping (T, String) -> String?) -> Conversion<T> {
        let base = convert
        return Conversion(expected: expected) { text in
            base(text).flatMap { value in
                check(value, text).map { .failure(Substitution.Failure($0)) } ?? .success(value)
            }
        }
    }
}

extension Conversion where T == String {
    static var string: Conversion<String> { Conversion(expected: "a string") { .success($0) } }

    static var nonEmptyString: Conversion<String> {
        string.checked { value, _ in value.isEmpty ? "must not be empty" : nil }
    }
}

extension Conversion where T == Int {
    static func integer(in range: ClosedRange<Int>) -> Conversion<Int> {
        Conversion(expected: "an integer") { text in
            Int(text).map { .success($0) } ?? rejected("an integer", text)
        }.checked { value, _ in rangeMessage(value, range, unit: "") }
    }

    static func byteSize(atLeast minimum: Int) -> Conversion<Int> {
        let expected = "a byte size such as 16384, 32KiB or 1MiB"
        return Conversion(expected: expected) { text in
            Units.byteSize(text).map { .success($0) } ?? rejected(expected, text)
        }.checked { value, _ in rangeMessage(value, minimum...Int.max, unit: " bytes") }
    }

    private static func rangeMessage(_ value: Int, _ range: ClosedRange<Int>, unit: String) -> String? {
        if range.contains(value) { return nil }
        if range.upperBound == .max { return "must be at least \(range.lowerBound)\(unit), got \(value)" }
        return "must be between \(range.lowerBound) and \(range.upperBound)\(unit), got \(value)"
    }
}

extension Conversion where T == Duration {
    /// Every timeout must be positive: a zero timeout would fail every request at once.
    static var duration: Conversion<Duration> {
        let expected = "a duration such as 5s or 250ms"
        return Conversion(expected: expected) { text in
            Units.duration(text).map { .success($0) } ?? rejected(expected, text)
        }.checked { value, text in value > .zero ? nil : "must be greater than 0, got \"\(text)\"" }
    }
}

extension Conversion where T == Bool {
    static var boolean: Conversion<Bool> {
        let expected = "a boolean (true or false)"
        return Conversion(expected: expected) { text in
            switch text.lowercased() {
            case "true", "yes", "on": .success(true)
            case "false", "no", "off": .success(false)
            default: rejected(expected, text)
            }
        }
    }
}

extension Conversion where T: RawRepresentable & CaseIterable, T.RawValue == String {
    /// `unknown balancer "foo"; expected one of round_robin, weighted_round_robin`.
    static func enumeration(_ noun: String) -> Conversion<T> {
        let choices = T.allCases.map(\.rawValue).joined(separator: ", ")
        return Conversion(expected: "one of \(choices)") { text in
            T(rawValue: text).map { .success($0) }
                ?? .failure(Substitution.Failure("unknown \(noun) \"\(text)\"; expected one of \(choices)"))
        }
    }
}

extension Conversion where T == CIDR {
    static var cidr: Conversion<CIDR> {
        Conversion(expected: "a CIDR such as 10.0.0.0/8") { text in
            CIDR(text).map { .success($0) } ?? .failure(Substitution.Failure("invalid CIDR \"\(text)\""))
        }
    }
}
