/// One field line: a name and its value as received (RFC 9110 §5).
public struct HeaderField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// The header section of a message: field lines in the order received, names compared
/// case-insensitively (RFC 9110 §5.1). The cache core reads only this, so the data path adapts
/// NIO's `HTTPHeaders` with one `HeaderFields(headers)` (its elements are `(name:, value:)`).
public struct HeaderFields: Sendable, Hashable, Sequence {
    public private(set) var fields: [HeaderField]

    public init() { fields = [] }

    public init(_ fields: [HeaderField]) { self.fields = fields }

    public init<Lines: Sequence>(_ lines: Lines) where Lines.Element == (name: String, value: String) {
        fields = lines.map { HeaderField(name: $0.name, value: $0.value) }
    }

    public func makeIterator() -> IndexingIterator<[HeaderField]> { fields.makeIterator() }

    public var isEmpty: Bool { fields.isEmpty }

    /// Every line's value for `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.compactMap { FieldSyntax.namesEqual($0.name, name) ? $0.value : nil }
    }

    public func contains(_ name: String) -> Bool {
        fields.contains { FieldSyntax.namesEqual($0.name, name) }
    }

    /// The first line's value, for singleton fields (Date, Expires, ETag, Location).
    public func first(_ name: String) -> String? {
        fields.first { FieldSyntax.namesEqual($0.name, name) }?.value
    }

    /// All lines joined with ", ", which RFC 9110 §5.3 makes equivalent to the lines apart;
    /// nil when the field is absent.
    public func combined(_ name: String) -> String? {
        let lines = values(name)
        return lines.isEmpty ? nil : lines.joined(separator: ", ")
    }

    /// The members of a list-based field over all its lines (RFC 9110 §5.6.1): split on commas
    /// outside quoted strings, whitespace trimmed, empty members dropped.
    public func listMembers(_ name: String) -> [Substring] {
        values(name).flatMap { FieldSyntax.listMembers($0) }
    }

    public mutating func append(_ name: String, _ value: String) {
        fields.append(HeaderField(name: name, value: value))
    }

    public mutating func removeAll(_ name: String) {
        fields.removeAll { FieldSyntax.namesEqual($0.name, name) }
    }

    /// Replaces every line of `name` with one line of `value`, appended at the end.
    public mutating func set(_ name: String, _ value: String) {
        removeAll(name)
        append(name, value)
    }

    /// A copy without the lines of any of `names` (compared case-insensitively).
    public func removing(_ names: some Sequence<String>) -> HeaderFields {
        let lowered = Set(names.map(FieldSyntax.lowercased))
        return HeaderFields(fields.filter { !lowered.contains(FieldSyntax.lowercased($0.name)) })
    }
}

extension HeaderFields: ExpressibleByArrayLiteral {
    /// `[("Vary", "a"), ("Vary", "b")]`: repeated names keep their order.
    public init(arrayLiteral lines: (String, String)...) {
        fields = lines.map { HeaderField(name: $0.0, value: $0.1) }
    }
}

extension HeaderFields: ExpressibleByDictionaryLiteral {
    /// `["Date": "…", "Cache-Control": "max-age=60"]`, in the literal's order.
    public init(dictionaryLiteral lines: (String, String)...) {
        fields = lines.map { HeaderField(name: $0.0, value: $0.1) }
    }
}
