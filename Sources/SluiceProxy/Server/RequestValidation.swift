import NIOHTTP1
import SluiceConfig

/// How a request's body is framed once the head has been judged unambiguous.
enum BodyFraming: Equatable {
    case none
    case length(Int)
    case chunked
}

/// A request Sluice answers itself instead of forwarding.
struct Rejection: Error, Equatable {
    var status: HTTPResponseStatus
    var reason: String
    /// Whether the connection must close after the answer: always for a request whose framing
    /// is in doubt, since the bytes after it cannot be trusted to start a new request.
    var close: Bool
}

/// RFC 9112 request-smuggling defence and the head-level limits, checked on every request
/// head before anything is forwarded. llhttp (NIO's parser) already refuses obs-fold, bare CR
/// or LF, whitespace before a colon and bad chunk syntax; this catches what a parser may
/// legally accept but a proxy must not pass on.
enum RequestValidation {
    static func framing(of head: HTTPRequestHead, limits: Limits) -> Result<BodyFraming, Rejection> {
        if head.uri.utf8.count > limits.maxURIBytes {
            return .failure(Rejection(status: .uriTooLong, reason: "request URI longer than \(limits.maxURIBytes) bytes", close: true))
        }
        if head.headers.count > limits.maxHeaderCount {
            return .failure(Rejection(status: .requestHeaderFieldsTooLarge, reason: "more than \(limits.maxHeaderCount) header fields", close: true))
        }
        let hosts = head.headers["host"]
        if hosts.count > 1 {
            return .failure(bad("several Host headers"))
        }
        if hosts.isEmpty && head.version == .http1_1 {
            return .failure(bad("missing Host header"))
        }

        let lengths = head.headers["content-length"]
        let codings = head.headers["transfer-encoding"]
        if !lengths.isEmpty && !codings.isEmpty {
            return .failure(bad("both Content-Length and Transfer-Encoding"))
        }
        if !codings.isEmpty {
            if head.version == .http1_0 {
                return .failure(bad("Transfer-Encoding in an HTTP/1.0 request"))
            }
            let list = codings.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }
            guard list.last == "chunked" else {
                return .failure(bad("Transfer-Encoding whose last coding is not chunked"))
            }
            guard list.count == 1 else {
                // Re-framing would silently drop the other codings, so refuse them (RFC 9112 §6.1).
                return .failure(Rejection(status: .notImplemented, reason: "Transfer-Encoding other than chunked", close: true))
            }
            return .success(.chunked)
        }
        if lengths.isEmpty { return .success(.none) }
        let values = lengths.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        guard values.count == 1 else {
            return .failure(bad("several Content-Length values"))
        }
        let text = values[0].trimmingSpaces()
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(text) else {
            return .failure(bad("invalid Content-Length"))
        }
        return .success(length == 0 ? .none : .length(length))
    }

    private static func bad(_ reason: String) -> Rejection {
        Rejection(status: .badRequest, reason: reason, close: true)
    }
}

extension StringProtocol {
    func trimmingSpaces() -> Substring {
        var s = Substring(self)
        while let first = s.first, first == " " || first == "\t" { s.removeFirst() }
        while let last = s.last, last == " " || last == "\t" { s.removeLast() }
        return s
    }
}

extension RequestValidation {
    enum TargetForm: Equatable {
        /// Origin-form (or `*`): nothing to do.
        case unchanged
        /// Absolute-form, split into the authority and the origin-form target.
        case rewritten(authority: String, target: String)
        /// Absolute-form with an empty authority or userinfo (RFC 9110 §4.2.4 forbids it).
        case invalid
    }

    /// `http://host[:port]/path?query` → (`host[:port]`, `/path?query`); the path "/" when
    /// absent (RFC 9112 §3.2.1).
    static func originForm(_ uri: String) -> TargetForm {
        let bytes = uri.utf8
        guard let first = bytes.first, first != UInt8(ascii: "/"), first != UInt8(ascii: "*") else { return .unchanged }
        let lowered = uri.prefix(8).lowercased()
        let schemeLength = lowered.hasPrefix("https://") ? 8 : lowered.hasPrefix("http://") ? 7 : 0
        guard schemeLength > 0 else { return .unchanged }
        let rest = uri.utf8.dropFirst(schemeLength)
        let end = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rest.endIndex
        let authority = Substring(rest[..<end])
        guard !authority.isEmpty, !authority.utf8.contains(UInt8(ascii: "@")) else { return .invalid }
        var target = String(Substring(rest[end...]))
        if let hash = target.utf8.firstIndex(of: UInt8(ascii: "#")) { target = String(target[..<hash]) }
        if !target.hasPrefix("/") { target = "/" + target }
        return .rewritten(authority: String(authority), target: target)
    }
}

