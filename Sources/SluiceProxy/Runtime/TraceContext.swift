import NIOHTTP1

/// W3C Trace Context: a valid incoming `traceparent` is continued (same trace id and flags,
/// a new parent id for Sluice's hop, `tracestate` passed on as it came); anything else starts
/// a trace. Sluice records no spans, so a trace it starts is not marked sampled.
struct TraceContext {
    let traceID: String
    /// Sluice's own span id: the parent id the backend sees.
    let spanID: String
    let flags: String
    let state: String?

    var traceparent: String { "00-\(traceID)-\(spanID)-\(flags)" }

    init(_ headers: HTTPHeaders, random: inout some RandomNumberGenerator) {
        spanID = RequestID.hex(Self.nonZero(random.next()))
        let fields = headers[canonicalForm: "traceparent"]
        if fields.count == 1, let parsed = Self.parse(String(fields[0])) {
            (traceID, flags) = parsed
            let states = headers[canonicalForm: "tracestate"]
            state = states.isEmpty ? nil : states.joined(separator: ",")
        } else {
            traceID = RequestID.hex(Self.nonZero(random.next()), random.next())
            flags = "00"
            state = nil
        }
    }

    /// (trace id, flags) of a valid traceparent (version 00, or a later one read as 00 as the
    /// spec asks); nil for anything malformed, including all-zero ids and version ff.
    static func parse(_ value: String) -> (String, String)? {
        let bytes = Array(value.utf8)
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-")
        else { return nil }
        let version = bytes[0..<2], trace = bytes[3..<35], parent = bytes[36..<52], flags = bytes[53..<55]
        guard [version, trace, parent, flags].allSatisfy({ $0.allSatisfy(isLowerHex) }) else { return nil }
        if version.elementsEqual("ff".utf8) { return nil }
        if version.elementsEqual("00".utf8) ? bytes.count != 55 : (bytes.count > 55 && bytes[55] != UInt8(ascii: "-")) { return nil }
        guard !trace.allSatisfy({ $0 == UInt8(ascii: "0") }), !parent.allSatisfy({ $0 == UInt8(ascii: "0") }) else { return nil }
        return (String(decoding: trace, as: UTF8.self), String(decoding: flags, as: UTF8.self))
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// An all-zero id is invalid; the chance is 2^-64, but avoiding it costs nothing.
    private static func nonZero(_ value: UInt64) -> UInt64 { value == 0 ? 1 : value }
}
