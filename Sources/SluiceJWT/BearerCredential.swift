/// What an `Authorization` header holds, as far as bearer tokens go (RFC 6750 §2.1; the
/// scheme is case-insensitive, RFC 9110 §11.1).
enum BearerCredential: Equatable {
    /// No header, an empty one, or another scheme (Basic, Digest, …).
    case absent
    /// `Bearer` with nothing after it.
    case empty
    case token(String)

    static let emptyReason = "empty bearer token"

    init(authorization header: String?) {
        guard let header else { self = .absent; return }
        let value = header.drop(while: Self.isWhitespace)
        let scheme = value.prefix(while: { !Self.isWhitespace($0) })
        guard scheme.utf8.count == 6,
              zip(scheme.utf8, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 })
        else { self = .absent; return }
        var token = value.dropFirst(6).drop(while: Self.isWhitespace)
        while let last = token.last, Self.isWhitespace(last) { token = token.dropLast() }
        self = token.isEmpty ? .empty : .token(String(token))
    }

    private static func isWhitespace(_ character: Character) -> Bool {
        character == " " || character == "\t"
    }
}
