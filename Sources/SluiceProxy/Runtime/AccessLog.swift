#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import SluiceConfig

/// One finished (or abandoned) request, as the access log records it.
struct AccessLogEntry {
    var client: String
    var method: String
    var path: String
    var status: Int
    var bytesIn: Int
    var bytesOut: Int
    var durationNanos: UInt64
    var upstream: String?
    var upstreamNanos: UInt64?
    var requestID: String
    /// The W3C trace id (continued or started), nil where there was no request to trace.
    var traceID: String? = nil
    var route: String?
    /// Why Sluice itself answered or cut the exchange short, when it did.
    var error: String?
    /// What the cache did, on cached routes: hit, stale, miss, revalidated, stale-if-error, bypass.
    var cache: String? = nil
}

/// Writes one line per request through swift-log (label `sluice.access`), as JSON or in a
/// plain combined-log-like format.
struct AccessLog: Sendable {
    let config: AccessLogConfig
    let logger: Logger

    func record(_ entry: AccessLogEntry) {
        guard config.enabled else { return }
        let line: String
        switch config.format {
        case .json: line = Self.json(entry, time: Self.timestamp())
        case .plain: line = Self.plain(entry, time: Self.timestamp())
        }
        logger.info("\(line)")
    }

    static func json(_ e: AccessLogEntry, time: String) -> String {
        var s = "{\"time\":\"\(time)\",\"client\":\(quoted(e.client)),\"method\":\(quoted(e.method))"
        s += ",\"path\":\(quoted(e.path)),\"status\":\(e.status),\"bytes_in\":\(e.bytesIn)"
        s += ",\"bytes_out\":\(e.bytesOut),\"duration_ms\":\(millis(e.durationNanos))"
        s += ",\"upstream\":\(e.upstream.map(quoted) ?? "null")"
        s += ",\"upstream_ms\":\(e.upstreamNanos.map(millis) ?? "null")"
        s += ",\"request_id\":\(quoted(e.requestID)),\"trace_id\":\(e.traceID.map(quoted) ?? "null")"
        s += ",\"route\":\(e.route.map(quoted) ?? "null")"
        if let error = e.error { s += ",\"error\":\(quoted(error))" }
        if let cache = e.cache { s += ",\"cache\":\(quoted(cache))" }
        return s + "}"
    }

    static func plain(_ e: AccessLogEntry, time: String) -> String {
        let upstream = e.upstream ?? "-"
        let upstreamTime = e.upstreamNanos.map(millis) ?? "-"
        var s = "\(e.client) [\(time)] \"\(e.method) \(e.path)\" \(e.status) \(e.bytesIn) \(e.bytesOut)"
        s += " \(millis(e.durationNanos))ms upstream=\(upstream) upstream_ms=\(upstreamTime) id=\(e.requestID)"
        if let trace = e.traceID { s += " trace=\(trace)" }
        if let error = e.error { s += " error=\"\(error)\"" }
        if let cache = e.cache { s += " cache=\(cache)" }
        return s
    }

    private static func millis(_ nanos: UInt64) -> String {
        let micros = nanos / 1_000
        let fraction = micros % 1_000
        let pad = fraction < 10 ? "00" : fraction < 100 ? "0" : ""
        return "\(micros / 1_000).\(pad)\(fraction)"
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// RFC 3339 UTC with milliseconds, without Foundation's formatter on the hot path.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = Int(now.tv_nsec / 1_000_000)
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(msText)Z"
    }
}
