/// The secondary cache key (RFC 9111 §4.1): the original request's values of the fields the
/// response's Vary names, normalised so that requests differing only in ways §4.1 allows
/// (whitespace, how lines are split) match.
///
/// Normalisation: field names lowercased, in the order Vary first names them, duplicates
/// dropped; a field's lines combined in order (RFC 9110 §5.3); list members split outside
/// quoted strings, trimmed, empty ones dropped and joined with ","; so `gzip, br` and
/// `gzip,br` and two lines `gzip` / `br` are one value. Case is kept: only some fields are
/// case-insensitive, and guessing wrong would serve one variant for another. An absent field
/// matches only an absent field (§4.1).
public struct VaryKey: Sendable, Hashable {
    /// The fields Vary names, lowercased.
    public let fieldNames: [String]
    /// The request's normalised value of each field, nil when the request lacks it.
    public let values: [String?]

    /// The key of `request` for a response with these fields; nil when its Vary has "*",
    /// which never matches (§4.1).
    public init?(response: HeaderFields, request: HeaderFields) {
        guard !Self.varyHasAsterisk(response) else { return nil }
        self.init(fieldNames: Self.fieldNames(response), request: request)
    }

    /// A key as recorded earlier (names lowercased, values normalised), e.g. read back from disk.
    public init(fieldNames: [String], storedValues: [String?]) {
        self.fieldNames = fieldNames
        values = storedValues
    }

    /// The key of `request` for the given Vary field names.
    public init(fieldNames: [String], request: HeaderFields) {
        var names: [String] = []
        for name in fieldNames.map(FieldSyntax.lowercased) where !names.contains(name) { names.append(name) }
        self.fieldNames = names
        values = names.map { Self.normalisedValue(of: $0, in: request) }
    }

    /// One deterministic string per key, for storage: `name=value` lines, `name` alone when
    /// absent. Field values cannot contain CR or LF (RFC 9110 §5.5), so lines cannot collide.
    public var string: String {
        zip(fieldNames, values).map { name, value in value.map { "\(name)=\($0)" } ?? name }.joined(separator: "\n")
    }

    /// Whether `request` selects the response this key was made for.
    public func matches(_ request: HeaderFields) -> Bool {
        VaryKey(fieldNames: fieldNames, request: request) == self
    }

    /// §4.1: a stored response is selected when its Vary has no "*" and every field it names
    /// has the same normalised value in the new request as in the stored one
    /// (`storedRequestValues`, as `VaryKey.values` recorded them at store time).
    public static func matches(storedVary response: HeaderFields, storedRequestValues: [String?], newRequest: HeaderFields) -> Bool {
        guard let key = VaryKey(response: response, request: newRequest) else { return false }
        return key.values == storedRequestValues
    }

    /// The lowercased field names of every Vary line.
    static func fieldNames(_ response: HeaderFields) -> [String] {
        response.listMembers("Vary").map(FieldSyntax.lowercased)
    }

    static func varyHasAsterisk(_ response: HeaderFields) -> Bool {
        response.listMembers("Vary").contains("*")
    }

    static func normalisedValue(of name: String, in request: HeaderFields) -> String? {
        guard request.contains(name) else { return nil }
        return request.listMembers(name).joined(separator: ",")
    }
}
