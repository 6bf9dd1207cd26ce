/// How the cache answers a request's `Range` from a complete stored response (RFC 9110 §14).
public enum RangeAnswer: Sendable, Equatable {
    /// Ignore the Range and serve the stored response whole: no Range, not GET, a stored status
    /// other than 200, a unit other than `bytes`, an invalid ranges-specifier, an If-Range that
    /// does not hold, or a zero-length representation (§14.2, §13.1.5).
    case full
    /// 206 with `Content-Range: bytes first-last/length`, positions inclusive (§14.4, §15.3.7).
    case partial(first: Int, last: Int)
    /// 416 with `Content-Range: bytes */length` (§15.5.17).
    case unsatisfiable
    /// A valid request for several ranges: the cache does not build multipart/byteranges
    /// (§14.6), so the data path forwards the request upstream.
    case passThrough
}

/// Single byte ranges served from storage (RFC 9110 §14.1.2, §14.2, §13.1.5).
///
/// Choices where the RFC leaves room, or where this reads it:
/// - A Range the cache cannot use is ignored, never rejected: §14.2 lets a server ignore Range
///   altogether, and ignore or reject an invalid ranges-specifier. Ignoring means the full 200.
/// - OWS is allowed after `=` (`bytes= 0-999`): §14.1.2 prints that example, and erratum 7306
///   adds the OWS the ABNF lost. It is also allowed around commas (§5.6.1), never inside a
///   range-spec nor between the unit and `=`.
/// - Empty list elements (`bytes=0-1,` or `bytes=,0-1`) are ignored as §5.6.1.2 tells a
///   recipient to; at least one range-spec must remain (`1#range-spec`).
/// - Positions too large for `Int` saturate instead of failing (§14.1.2 says recipients MUST
///   anticipate large numerals): such a first-pos is past any representation, such a last-pos
///   or suffix-length reaches its end. Whether last-pos < first-pos (§14.1.1, invalid) is
///   decided on the digits, so saturation never makes an invalid range valid.
/// - A zero-length representation: an int-range or `-0` is unsatisfiable (416); a non-zero
///   suffix-range is satisfiable by §14.1.2's own words but has no bytes to send and no
///   Content-Range that could describe it (§14.4 needs complete-length > last-pos), so the
///   Range is ignored as §14.2 allows for a representation with no content.
/// - Several ranges pass through even when they would coalesce or some are unsatisfiable: the
///   origin decides how to answer them.
/// - More than one Range or If-Range line is not a valid singleton field: the Range is ignored.
public enum ByteRange {
    /// The answer to a request for a stored response of `storedStatus` with `storedHeaders`,
    /// whose stored content is `length` bytes. `now` (Unix seconds) only places the two-digit
    /// years of RFC 850 dates (`HTTPDate.parse`); the same `now` reads every date, so equal
    /// dates compare equal.
    ///
    /// The caller has already evaluated the other preconditions (§13.2.2): §14.2 evaluates
    /// Range only when, without it, the answer would be the 200.
    public static func answer(
        method: String,
        request: HeaderFields,
        storedStatus: Int,
        storedHeaders: HeaderFields,
        length: Int,
        now: Int64
    ) -> RangeAnswer {
        // §14.2: GET is the only method with range handling (method names are case-sensitive,
        // §9.1); only a 200 is a whole representation to take ranges of.
        guard method == "GET", storedStatus == 200, length >= 0 else { return .full }
        let lines = request.values("Range")
        guard lines.count == 1, let specifier = RangesSpecifier(lines[0]) else { return .full }
        guard ifRangeHolds(request: request, stored: storedHeaders, now: now) else { return .full }
        switch specifier {
        case .several:
            return .passThrough
        case .one(let spec):
            return satisfy(spec, length: length)
        }
    }

    /// The Content-Range field value of a 206 for bytes `first` through `last` (inclusive) of
    /// `length` (§14.4 `range-resp`): `bytes 0-499/10000`.
    public static func contentRange(first: Int, last: Int, length: Int) -> String {
        "bytes \(first)-\(last)/\(length)"
    }

    /// The Content-Range field value of a 416 (§14.4 `unsatisfied-range`): `bytes */10000`.
    public static func unsatisfiedRange(length: Int) -> String {
        "bytes */\(length)"
    }

    /// §14.1.2: an int-range is satisfiable when its first-pos is below the length, its
    /// last-pos then clipped to the last byte; a suffix-range when its length is not zero,
    /// taking the whole representation when longer than it.
    private static func satisfy(_ spec: RangeSpec, length: Int) -> RangeAnswer {
        switch spec {
        case .int(let first, let last):
            guard first < length else { return .unsatisfiable }
            return .partial(first: first, last: min(last ?? Int.max, length - 1))
        case .suffix(let suffixLength):
            guard suffixLength > 0 else { return .unsatisfiable }
            guard length > 0 else { return .full }  // See the type's notes: §14.2 lets it go.
            return .partial(first: length - min(suffixLength, length), last: length - 1)
        }
    }

    /// §13.1.5: true when the request has no If-Range, or its validator is the stored one. An
    /// entity-tag (a DQUOTE within the first three characters) must match the stored ETag by
    /// the strong comparison (§8.8.3.2), so a weak tag on either side never does. An
    /// HTTP-date must equal the stored Last-Modified and be a strong validator, which for an
    /// intermediate cache means the stored Date is at least one second after the
    /// Last-Modified (§8.8.2.2). Anything else, a malformed value included, does not hold.
    ///
    /// "Exactly matches" is read as the same instant, as `Revalidation` reads Last-Modified:
    /// an IMF-fixdate and an RFC 850 date of the same second match.
    private static func ifRangeHolds(request: HeaderFields, stored: HeaderFields, now: Int64) -> Bool {
        let lines = request.values("If-Range")
        guard !lines.isEmpty else { return true }
        guard lines.count == 1 else { return false }
        let value = FieldSyntax.trimmed(Substring(lines[0]))
        if value.utf8.prefix(3).contains(FieldSyntax.quote) {
            guard let tag = EntityTag(value), let storedTag = stored.first("ETag").flatMap({ EntityTag($0) }) else {
                return false
            }
            return tag.stronglyMatches(storedTag)
        }
        guard let validator = HTTPDate.parse(value, now: now),
              let lastModified = stored.first("Last-Modified").flatMap({ HTTPDate.parse($0, now: now) }),
              let date = stored.first("Date").flatMap({ HTTPDate.parse($0, now: now) }) else { return false }
        return validator == lastModified && date > lastModified
    }
}

/// One bytes range-spec (§14.1.1), positions saturated at `Int.max`.
private enum RangeSpec: Equatable {
    /// `first-pos "-" [ last-pos ]`
    case int(first: Int, last: Int?)
    /// `"-" suffix-length`
    case suffix(Int)
}

/// A valid `bytes` ranges-specifier (§14.1.1, §14.1.2): the one range it asks for, or that it
/// asks for several.
private enum RangesSpecifier {
    case one(RangeSpec)
    case several

    /// Nil when `value` is not a valid bytes ranges-specifier: another unit, or invalid.
    init?(_ value: String) {
        let bytes = Array(FieldSyntax.trimmed(Substring(value)).utf8)
        guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")),
              Self.isBytesUnit(bytes[..<equals]) else { return nil }
        var first: RangeSpec?
        var count = 0
        // `1#range-spec` as a recipient reads it (§5.6.1.2): OWS around commas, empty elements
        // skipped. The OWS after `=` is erratum 7306's.
        for element in bytes[(equals + 1)...].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let trimmed = Self.trimmed(element)
            guard !trimmed.isEmpty else { continue }
            guard let spec = Self.rangeSpec(trimmed) else { return nil }
            if first == nil { first = spec }
            count += 1
        }
        guard let first else { return nil }
        self = count == 1 ? .one(first) : .several
    }

    /// §14.1: `range-unit = token`, names case-insensitive.
    private static func isBytesUnit(_ unit: ArraySlice<UInt8>) -> Bool {
        unit.count == 5 && zip(unit, "bytes".utf8).allSatisfy { ($0 | 0x20) == $1 }
    }

    /// `int-range / suffix-range`; byte ranges do not use other-range (§14.1.2). Nil when
    /// invalid, which includes a last-pos below the first-pos (§14.1.1).
    private static func rangeSpec(_ text: ArraySlice<UInt8>) -> RangeSpec? {
        guard let dash = text.firstIndex(of: UInt8(ascii: "-")) else { return nil }
        let before = text[..<dash]
        let after = text[(dash + 1)...]
        if before.isEmpty {
            guard let suffixLength = Position(after) else { return nil }
            return .suffix(suffixLength.value)
        }
        guard let first = Position(before) else { return nil }
        if after.isEmpty { return .int(first: first.value, last: nil) }
        guard let last = Position(after), !last.isBelow(first) else { return nil }
        return .int(first: first.value, last: last.value)
    }

    private static func trimmed(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var text = text
        while let byte = text.first, byte == FieldSyntax.space || byte == FieldSyntax.tab { text = text.dropFirst() }
        while let byte = text.last, byte == FieldSyntax.space || byte == FieldSyntax.tab { text = text.dropLast() }
        return text
    }
}

/// `1*DIGIT` as a byte position: its value saturated at `Int.max`, and its significant digits
/// (leading zeros dropped) for comparing exactly whatever the size.
private struct Position {
    var value: Int
    var digits: ArraySlice<UInt8>

    init?(_ text: ArraySlice<UInt8>) {
        guard !text.isEmpty, text.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        digits = text.drop { $0 == 0x30 }
        value = 0
        for digit in digits {
            let (tens, overflowTens) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = tens.addingReportingOverflow(Int(digit - 0x30))
            guard !overflowTens, !overflowSum else {
                value = Int.max
                break
            }
            value = sum
        }
    }

    /// Numerically less than `other`: fewer significant digits, or as many and less.
    func isBelow(_ other: Position) -> Bool {
        digits.count != other.digits.count
            ? digits.count < other.digits.count
            : digits.lexicographicallyPrecedes(other.digits)
    }
}
