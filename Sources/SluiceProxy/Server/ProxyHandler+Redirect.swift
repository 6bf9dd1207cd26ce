import NIOHTTP1
import SluiceConfig

extension ProxyHandler {
    /// A listener with `https_redirect` answers every request with the same URL over HTTPS
    /// (nginx's `return 301 https://$host$request_uri`); 307/308 keep the method and body.
    func redirectToHTTPS(_ head: HTTPRequestHead, _ local: LocalAnswer, _ redirect: HTTPSRedirectConfig, close: Bool) {
        guard let host = head.headers.first(name: "host").flatMap(Self.redirectHost) else {
            return answer(local, .badRequest, "a redirect to HTTPS needs a valid Host header", close: true)
        }
        let authority = redirect.port == 443 ? host : host + ":" + String(redirect.port)
        let path = head.uri.hasPrefix("/") ? head.uri : "/"
        answer(local, HTTPResponseStatus(statusCode: redirect.status), "", close: close,
               fields: [("Location", "https://" + authority + path)], logReason: "redirect to https")
    }

    /// The Host field without its port, if it is a name or an IP literal (anything else would
    /// let a client put what it likes into the Location).
    static func redirectHost(_ field: String) -> String? {
        if field.hasPrefix("[") {
            guard let close = field.firstIndex(of: "]") else { return nil }
            let literal = field[field.index(after: field.startIndex)..<close]
            guard !literal.isEmpty, literal.utf8.allSatisfy({ $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") || isHex($0) }) else { return nil }
            return String(field[...close])
        }
        let name = field.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard !name.isEmpty, name.utf8.allSatisfy({ isHostByte($0) }) else { return nil }
        return name.lowercased()
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66)
    }

    private static func isHostByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
    }
}
