import Foundation
import NIOHTTP1
import SluiceConfig

/// Who may use a forward proxy listener, for where: pure decisions over the config, the
/// request and addresses (no I/O), so each rule is tested on its own.
struct ForwardPolicy: Sendable {
    let config: ForwardProxyConfig

    /// Why a request is refused: the status and the one-line reason the client gets.
    struct Refusal: Error, Equatable {
        var status: HTTPResponseStatus
        var reason: String
    }

    /// A destination as the request names it.
    struct Destination: Equatable {
        var host: String
        var port: Int
        /// The request target to send for absolute-form requests (origin-form); nil for CONNECT.
        var path: String?
        var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Non-public destinations: loopback, RFC 1918, CGNAT, link-local, multicast, reserved, and
    /// their IPv6 counterparts (IPv4-mapped addresses are checked as IPv4).
    static let nonPublic: [CIDR] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
    ].map { CIDR($0)! }

    /// The peer may use the proxy at all.
    func admits(client address: [UInt8]?) -> Bool {
        guard let address else { return false }
        return config.allowClients.contains { $0.contains(address) }
    }

    /// Nil when no users are configured or the Basic credentials match one; else a 407.
    func authenticate(_ head: HTTPRequestHead) -> Refusal? {
        guard !config.users.isEmpty else { return nil }
        let refusal = Refusal(status: .proxyAuthenticationRequired, reason: "proxy authentication required")
        guard let field = head.headers.first(name: "proxy-authorization"),
              field.count > 6, field.prefix(6).lowercased() == "basic ",
              let decoded = Data(base64Encoded: String(field.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8),
              let colon = text.firstIndex(of: ":")
        else { return refusal }
        let (name, password) = (String(text[..<colon]), String(text[text.index(after: colon)...]))
        // Every user is compared in full, so the time taken does not say which part was wrong.
        var matched = false
        for user in config.users {
            let nameMatches = Self.constantTimeEquals(user.name, name)
            let passwordMatches = Self.constantTimeEquals(user.password, password)
            if nameMatches && passwordMatches { matched = true }
        }
        return matched ? nil : refusal
    }

    /// The destination of a CONNECT (`host:port`) or an absolute-form `http://` request.
    static func destination(of head: HTTPRequestHead) -> Result<Destination, Refusal> {
        if head.method == .CONNECT {
            guard let (host, port) = hostAndPort(Substring(head.uri), defaultPort: nil) else {
                return .failure(Refusal(status: .badRequest, reason: "CONNECT needs host:port, got \(head.uri)"))
            }
            return .success(Destination(host: host, port: port, path: nil))
        }
        if head.uri.prefix(8).lowercased() == "https://" {
            return .failure(Refusal(status: .badRequest, reason: "use CONNECT for https:// through this proxy"))
        }
        // The reverse proxy's absolute-form rule (RFC 9112 §3.2.2) splits the target.
        switch RequestValidation.originForm(head.uri) {
        case .unchanged:
            return .failure(Refusal(status: .badRequest,
                                    reason: "this listener is a forward proxy: send an absolute URL (http://host/path) or CONNECT"))
        case .invalid:
            return .failure(Refusal(status: .badRequest, reason: "invalid authority in \(head.uri)"))
        case .rewritten(let authority, let target):
            guard let (host, port) = hostAndPort(Substring(authority), defaultPort: 80) else {
                return .failure(Refusal(status: .badRequest, reason: "invalid authority in \(head.uri)"))
            }
            return .success(Destination(host: host, port: port, path: target))
        }
    }

    /// The named host and port are on the lists.
    func allows(_ destination: Destination) -> Refusal? {
        guard config.allowPorts.contains(destination.port) else {
            return Refusal(status: .forbidden, reason: "port \(destination.port) is not allowed through this proxy")
        }
        let host = destination.host.lowercased()
        let listed = config.allowHosts.contains { pattern in
            pattern == "*" || pattern == host || (pattern.hasPrefix("*.") && host.hasSuffix(pattern.dropFirst(1)))
        }
        return listed ? nil : Refusal(status: .forbidden, reason: "destination \(host) is not allowed through this proxy")
    }

    /// The address a destination resolved to may be connected to (SSRF defence).
    func allows(address bytes: [UInt8], of host: String) -> Refusal? {
        let checked = Self.unmapped(bytes)
        guard Self.nonPublic.contains(where: { $0.contains(checked) }),
              !config.allowPrivate.contains(where: { $0.contains(checked) || $0.contains(bytes) })
        else { return nil }
        return Refusal(status: .forbidden, reason: "destination \(host) is a non-public address, not allowed through this proxy")
    }

    /// `::ffff:a.b.c.d` as the IPv4 address it carries.
    static func unmapped(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return bytes }
        return Array(bytes[12..<16])
    }

    private static func hostAndPort(_ text: Substring, defaultPort: Int?) -> (String, Int)? {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "@") }) else { return nil }
        let port: Int? = if let portText { Int(portText) } else { defaultPort }
        guard let port, (1...65535).contains(port) else { return nil }
        return (String(host), port)
    }

    private static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
