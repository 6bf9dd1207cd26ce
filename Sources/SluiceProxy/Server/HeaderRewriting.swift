import NIOHTTP1
import SluiceConfig

/// Who is on the other end of a client connection, worked out once per connection.
struct ClientPeer {
    /// The peer's IP as text (`127.0.0.1`, `::1`).
    var ip: String
    /// Whether `headers.trusted_proxies` covers the peer, so that its X-Forwarded-* and
    /// Forwarded values are kept and appended to rather than replaced.
    var isTrusted: Bool
}

/// Header rewriting in both directions: hop-by-hop removal (RFC 9110 §7.6.1), the forwarding
/// headers, `Via`, and the request id.
enum HeaderRewriting {
    /// Always hop-by-hop, whether or not `Connection` names them.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-connection", "proxy-authorization",
    ]

    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        var named: [String] = []
        for value in headers["connection"] {
            for token in value.split(separator: ",") {
                let name = token.trimmingSpaces().lowercased()
                if !name.isEmpty { named.append(name) }
            }
        }
        for name in hopByHop { headers.remove(name: name) }
        for name in named { headers.remove(name: name) }
    }

    static func upstreamHead(
        from head: HTTPRequestHead,
        framing: BodyFraming,
        peer: ClientPeer,
        policy: HeaderPolicy,
        requestID: String
    ) -> HTTPRequestHead {
        var headers = head.headers
        removeHopByHop(&headers)
        headers.remove(name: "content-length")
        // Sluice answers `Expect: 100-continue` itself when it starts reading the body.
        headers.remove(name: "expect")

        let host = head.headers.first(name: "host")
        let forwardedFor = head.headers[canonicalForm: "x-forwarded-for"].joined(separator: ", ")
        if peer.isTrusted, !forwardedFor.isEmpty {
            headers.replaceOrAdd(name: "X-Forwarded-For", value: forwardedFor + ", " + peer.ip)
        } else {
            headers.replaceOrAdd(name: "X-Forwarded-For", value: peer.ip)
        }
        if !(peer.isTrusted && headers.contains(name: "x-forwarded-proto")) {
            headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "http")
        }
        if !(peer.isTrusted && headers.contains(name: "x-forwarded-host")) {
            headers.remove(name: "x-forwarded-host")
            if let host { headers.add(name: "X-Forwarded-Host", value: host) }
        }
        let element = forwardedElement(peer: peer.ip, host: host)
        let existing = head.headers["forwarded"].joined(separator: ", ")
        headers.replaceOrAdd(name: "Forwarded", value: peer.isTrusted && !existing.isEmpty ? existing + ", " + element : element)

        appendVia(&headers, version: head.version, policy: policy)
        headers.replaceOrAdd(name: policy.requestID, value: requestID)

        switch framing {
        case .none: break
        case .length(let n): headers.add(name: "Content-Length", value: String(n))
        case .chunked: headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        var upstream = HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
        upstream.version = .http1_1
        return upstream
    }

    /// The response head as the client sees it. `keepAlive` is what Sluice will do with the
    /// client connection after this response.
    static func clientHead(
        from head: HTTPResponseHead,
        requestVersion: HTTPVersion,
        keepAlive: Bool,
        policy: HeaderPolicy,
        requestID: String
    ) -> HTTPResponseHead {
        var headers = head.headers
        removeHopByHop(&headers)
        appendVia(&headers, version: head.version, policy: policy)
        if !headers.contains(name: policy.requestID) {
            headers.add(name: policy.requestID, value: requestID)
        }
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if requestVersion == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        return HTTPResponseHead(version: requestVersion == .http1_0 ? .http1_0 : .http1_1, status: head.status, headers: headers)
    }

    private static func appendVia(_ headers: inout HTTPHeaders, version: HTTPVersion, policy: HeaderPolicy) {
        guard !policy.via.isEmpty else { return }
        let hop = "\(version.major).\(version.minor) \(policy.via)"
        let existing = headers[canonicalForm: "via"].joined(separator: ", ")
        headers.replaceOrAdd(name: "Via", value: existing.isEmpty ? hop : existing + ", " + hop)
    }

    /// One RFC 7239 element; IPv6 addresses and hosts with a colon must be quoted.
    static func forwardedElement(peer: String, host: String?) -> String {
        var element = peer.contains(":") ? "for=\"[\(peer)]\"" : "for=\(peer)"
        if let host {
            element += isToken(host) ? ";host=\(host)" : ";host=\"\(host.replacingQuotes())\""
        }
        return element + ";proto=http"
    }

    private static func isToken(_ text: String) -> Bool {
        text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for c in self { if c == "\"" || c == "\\" { out.append("\\") }; out.append(c) }
        return out
    }
}
