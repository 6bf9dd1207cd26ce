import NIOHTTP1
import SluiceConfig

/// Who is on the other end of a client connection, worked out once per connection.
struct ClientPeer {
    /// The peer's IP as text (`127.0.0.1`, `::1`).
    var ip: String
    /// Its RFC 7239 `for=` element, computed once per connection.
    var forwardedFor: String
    /// Whether `headers.trusted_proxies` covers the peer, so that its X-Forwarded-* and
    /// Forwarded values are kept and appended to rather than replaced.
    var isTrusted: Bool
    /// The peer's address as bytes, parsed once at accept (rate-limit keys reuse it).
    var address: [UInt8]?
    /// `https` on a TLS listener: X-Forwarded-Proto, Forwarded's proto and the cache key say so.
    var scheme: String
    /// Set on a listener whose every request is redirected to HTTPS.
    var httpsRedirect: HTTPSRedirectConfig?

    init(ip: String, isTrusted: Bool, address: [UInt8]? = nil, scheme: String = "http", httpsRedirect: HTTPSRedirectConfig? = nil) {
        self.ip = ip
        self.isTrusted = isTrusted
        self.scheme = scheme
        self.httpsRedirect = httpsRedirect
        self.address = address ?? CIDR.parseAddress(ip)
        forwardedFor = HeaderRewriting.forwardedFor(peer: ip)
    }
}

/// Header rewriting in both directions: hop-by-hop removal (RFC 9110 §7.6.1), the forwarding
/// headers, `Via`, and the request id.
enum HeaderRewriting {
    /// Always hop-by-hop, whether or not `Connection` names them.
    static let hopByHop: [String] = [
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-connection", "proxy-authorization",
    ]

    /// ASCII case-insensitive equality for header names and tokens, without allocating.
    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8) { ($0 | 0x20) == ($1 | 0x20) }
    }

    static func isHopByHop(_ name: String) -> Bool {
        hopByHop.contains { equalsIgnoringCase(name, $0) }
    }

    /// The header names a `Connection` field lists, lowercased (RFC 9110 §7.6.1).
    private static func connectionNamed(_ headers: HTTPHeaders) -> [String] {
        var named: [String] = []
        for (name, value) in headers where equalsIgnoringCase(name, "connection") {
            // The usual values name no other header: no allocation for them.
            if equalsIgnoringCase(value, "keep-alive") || equalsIgnoringCase(value, "close") { continue }
            for token in value.split(separator: ",") {
                let token = token.trimmingSpaces().lowercased()
                if !token.isEmpty, token != "close", !hopByHop.contains(token) { named.append(token) }
            }
        }
        return named
    }

    /// The request head as the backend sees it, built in one pass over the client's fields.
    static func upstreamHead(
        from head: HTTPRequestHead,
        framing: BodyFraming,
        peer: ClientPeer,
        policy: HeaderPolicy,
        requestID: String,
        backendAddress: String,
        trace: TraceContext? = nil,
        upgrade: String? = nil,
        http2: Bool = false
    ) -> HTTPRequestHead {
        // `Connection: host` must not strip the Host that routing used.
        let named = head.headers.contains(name: "connection") ? connectionNamed(head.headers).filter { $0 != "host" } : []
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 6)
        var host: String?
        var forwardedFor: [String] = []
        var forwarded: [String] = []
        var via: [String] = []
        var proto: String?
        var forwardedHost: String?
        var acceptsTrailers = false
        for (name, value) in head.headers {
            // The one TE an HTTP/2 request may carry (RFC 9113 §8.2.2); gRPC servers require it.
            if http2, equalsIgnoringCase(name, "te") { acceptsTrailers = acceptsTrailers || listsTrailers(value) }
            if isHopByHop(name) || named.contains(where: { equalsIgnoringCase(name, $0) }) { continue }
            // As nginx (underscores_in_headers off): `X_Forwarded_For` would alias the real
            // header in CGI-style backends.
            if name.utf8.contains(UInt8(ascii: "_")) { continue }
            // Framing is Sluice's to set; `Expect: 100-continue` Sluice answers itself.
            if equalsIgnoringCase(name, "content-length") || equalsIgnoringCase(name, "expect") { continue }
            if equalsIgnoringCase(name, "x-forwarded-for") { forwardedFor.append(value); continue }
            if equalsIgnoringCase(name, "forwarded") { forwarded.append(value); continue }
            if equalsIgnoringCase(name, "via") { via.append(value); continue }
            if equalsIgnoringCase(name, "x-forwarded-proto") { proto = proto ?? value; continue }
            if equalsIgnoringCase(name, "x-forwarded-host") { forwardedHost = forwardedHost ?? value; continue }
            if equalsIgnoringCase(name, policy.requestID) { continue }
            if trace != nil, equalsIgnoringCase(name, "traceparent") || equalsIgnoringCase(name, "tracestate") { continue }
            if host == nil, equalsIgnoringCase(name, "host") { host = value }
            headers.add(name: name, value: value)
        }

        if host == nil {
            // HTTP/1.0 without Host: the upstream request is HTTP/1.1 and needs one.
            headers.add(name: "Host", value: backendAddress)
        }
        let trusted = peer.isTrusted
        headers.add(name: "X-Forwarded-For", value: trusted && !forwardedFor.isEmpty ? forwardedFor.joined(separator: ", ") + ", " + peer.ip : peer.ip)
        headers.add(name: "X-Forwarded-Proto", value: trusted ? proto ?? peer.scheme : peer.scheme)
        if let value = trusted ? forwardedHost ?? host : host { headers.add(name: "X-Forwarded-Host", value: value) }
        let element = forwardedElement(forPart: peer.forwardedFor, host: host, scheme: peer.scheme)
        headers.add(name: "Forwarded", value: trusted && !forwarded.isEmpty ? forwarded.joined(separator: ", ") + ", " + element : element)
        if !policy.via.isEmpty {
            let hop = viaHop(head.version, policy)
            headers.add(name: "Via", value: via.isEmpty ? hop : via.joined(separator: ", ") + ", " + hop)
        }
        headers.add(name: policy.requestID, value: requestID)
        if let trace {
            headers.add(name: "traceparent", value: trace.traceparent)
            if let state = trace.state { headers.add(name: "tracestate", value: state) }
        }
        if acceptsTrailers { headers.add(name: "te", value: "trailers") }
        if let upgrade {
            // Hop-by-hop, so dropped above; re-added for the one hop that asks to switch.
            headers.add(name: "Connection", value: "Upgrade")
            headers.add(name: "Upgrade", value: upgrade)
        }
        switch framing {
        case .none: break
        case .length(let n): headers.add(name: "Content-Length", value: String(n))
        case .chunked: headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
    }

    /// Whether a TE value lists the `trailers` token (`trailers`, `gzip, trailers;q=1`).
    private static func listsTrailers(_ value: String) -> Bool {
        value.split(separator: ",").contains { member in
            let coding = (member.split(separator: ";", maxSplits: 1).first ?? "").filter { $0 != " " && $0 != "\t" }
            return coding.lowercased() == "trailers"
        }
    }

    /// The response head as the client sees it. `keepAlive` is what Sluice will do with the
    /// client connection after this response.
    static func clientHead(
        from head: HTTPResponseHead,
        requestVersion: HTTPVersion,
        keepAlive: Bool,
        policy: HeaderPolicy,
        requestID: String,
        limitFields: [(String, String)] = []
    ) -> HTTPResponseHead {
        var passed = passedFields(head.headers, reserving: 3 + limitFields.count, dropLimitFields: !limitFields.isEmpty,
                                  requestIDField: policy.requestID)
        addClientFields(to: &passed.fields, via: passed.via, version: head.version,
                        hasRequestID: passed.hasRequestID, requestID: requestID,
                        limitFields: limitFields, keepAlive: keepAlive, requestVersion: requestVersion, policy: policy)
        return HTTPResponseHead(version: requestVersion == .http1_0 ? .http1_0 : .http1_1, status: head.status, headers: passed.fields)
    }

    /// What passes of a response's own fields to the client: not the hop-by-hop ones, not the
    /// ones its Connection names, not its RateLimit fields when Sluice sends its own (they would
    /// contradict Sluice's limits). Its Via values are set apart, for Sluice's hop to join, and
    /// whether `requestIDField` is among what passes is noted on the same pass.
    static func passedFields(_ headers: HTTPHeaders, reserving extra: Int = 0, dropLimitFields: Bool,
                             requestIDField: String? = nil) -> (fields: HTTPHeaders, via: [String], hasRequestID: Bool) {
        let named = headers.contains(name: "connection") ? connectionNamed(headers) : []
        var fields = HTTPHeaders()
        fields.reserveCapacity(headers.count + extra)
        var via: [String] = []
        var hasRequestID = false
        for (name, value) in headers {
            if isHopByHop(name) || named.contains(where: { equalsIgnoringCase(name, $0) }) { continue }
            if dropLimitFields, isRateLimitField(name) { continue }
            if equalsIgnoringCase(name, "via") { via.append(value); continue }
            if !hasRequestID, let requestIDField, equalsIgnoringCase(name, requestIDField) { hasRequestID = true }
            fields.add(name: name, value: value)
        }
        return (fields, via, hasRequestID)
    }

    static func isRateLimitField(_ name: String) -> Bool {
        equalsIgnoringCase(name, "ratelimit") || equalsIgnoringCase(name, "ratelimit-policy")
    }

    /// What Sluice adds to each response a client gets: its hop in Via, the request id unless
    /// the response has one, its RateLimit fields, and Connection where a close or an HTTP/1.0
    /// client needs it. `version` is the response's own, for the Via hop.
    static func addClientFields<Sink: FieldSink>(
        to sink: inout Sink, via: [String], version: HTTPVersion, hasRequestID: Bool, requestID: String,
        limitFields: [(String, String)], keepAlive: Bool, requestVersion: HTTPVersion, policy: HeaderPolicy
    ) {
        if !policy.via.isEmpty {
            let hop = viaHop(version, policy)
            sink.addField("Via", via.isEmpty ? hop : via.joined(separator: ", ") + ", " + hop)
        } else {
            for value in via { sink.addField("Via", value) }
        }
        if !hasRequestID { sink.addField(policy.requestID, requestID) }
        for (name, value) in limitFields { sink.addField(name, value) }
        if !keepAlive {
            sink.addField("Connection", "close")
        } else if requestVersion == .http1_0 {
            sink.addField("Connection", "keep-alive")
        }
    }

    /// Trailer fields that must not travel in a trailer section (RFC 9110 §6.5.1): framing,
    /// routing and hop-by-hop fields are dropped; the rest pass on. Nil stays nil.
    static func trailers(_ trailers: HTTPHeaders?) -> HTTPHeaders? {
        guard let trailers, trailers.contains(where: { isForbiddenInTrailer($0.name) }) else { return trailers }
        var kept = HTTPHeaders()
        for (name, value) in trailers where !isForbiddenInTrailer(name) { kept.add(name: name, value: value) }
        return kept.isEmpty ? nil : kept
    }

    private static func isForbiddenInTrailer(_ name: String) -> Bool {
        isHopByHop(name) || equalsIgnoringCase(name, "content-length") || equalsIgnoringCase(name, "host")
            || equalsIgnoringCase(name, "content-type") || equalsIgnoringCase(name, "expect")
    }

    /// `1.1 sluice`; the common versions without string interpolation.
    private static func viaHop(_ version: HTTPVersion, _ policy: HeaderPolicy) -> String {
        switch (version.major, version.minor) {
        case (1, 1): "1.1 " + policy.via
        case (1, 0): "1.0 " + policy.via
        case (2, 0): "2 " + policy.via  // HTTP/2 has no minor version (RFC 9113 §3)
        default: "\(version.major).\(version.minor) " + policy.via
        }
    }

    /// One RFC 7239 element; IPv6 addresses and hosts with a colon must be quoted.
    /// The `for=` part, which depends only on the connection's peer.
    static func forwardedFor(peer: String) -> String {
        peer.utf8.contains(UInt8(ascii: ":")) ? "for=\"[\(peer)]\"" : "for=\(peer)"
    }

    static func forwardedElement(forPart: String, host: String?, scheme: String = "http") -> String {
        guard let host else { return forPart + ";proto=" + scheme }
        if isToken(host) { return forPart + ";host=" + host + ";proto=" + scheme }
        let needsEscape = host.utf8.contains { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        return forPart + ";host=\"" + (needsEscape ? host.replacingQuotes() : host) + "\";proto=" + scheme
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
