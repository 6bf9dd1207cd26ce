import NIOHTTP1
import SluiceBalancing
import SluiceConfig

/// The request-side affinity key of the hash strategies, hashed with XXH64 (stable across
/// processes and instances, unlike Swift's seeded `Hasher`).
enum HashKey {
    /// The client's address: the peer, or, behind `trusted_proxies`, the rightmost
    /// X-Forwarded-For entry that is not itself a trusted proxy.
    static func clientIP(head: HTTPRequestHead, peer: ClientPeer, trusted: [CIDR]) -> String {
        guard peer.isTrusted else { return peer.ip }
        let hops = head.headers[canonicalForm: "x-forwarded-for"].flatMap { $0.split(separator: ",") }
        var client = peer.ip
        for hop in hops.reversed() {
            let address = String(hop.trimmingSpaces())
            guard let bytes = CIDR.parseAddress(address) else { break }
            client = address
            if !trusted.contains(where: { $0.contains(bytes) }) { break }
        }
        return client
    }

    /// `ip_hash` keys on the client's /24 (IPv4) or whole address (IPv6), as nginx does, so a
    /// client keeps its backend when its last octet changes behind a NAT pool.
    static func ipHash(clientIP: String) -> UInt64 {
        guard var bytes = CIDR.parseAddress(clientIP) else { return XXHash64.hash(clientIP) }
        if bytes.count == 4 { bytes[3] = 0 }
        return XXHash64.hash(bytes)
    }

    /// The configured parts joined by a separator that cannot occur in them; a missing header,
    /// cookie or parameter counts as empty, so such requests share one backend.
    static func compute(_ parts: [HashKeyPart], head: HTTPRequestHead, clientIP: @autoclosure () -> String) -> UInt64 {
        if parts.count == 1 { return XXHash64.hash(String(text(of: parts[0], head: head, clientIP: clientIP))) }
        var key: [UInt8] = []
        for (index, part) in parts.enumerated() {
            if index > 0 { key.append(0) }
            key += text(of: part, head: head, clientIP: clientIP).utf8
        }
        return XXHash64.hash(key)
    }

    private static func text(of part: HashKeyPart, head: HTTPRequestHead, clientIP: () -> String) -> Substring {
        switch part {
        case .clientIP: clientIP()[...]
        case .path: path(of: head.uri)
        case .header(let name): head.headers[name].joined(separator: ",")[...]
        case .cookie(let name): cookie(name, in: head.headers)
        case .query(let name): queryParameter(name, in: head.uri)
        }
    }

    static func path(of uri: String) -> Substring {
        uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri[...]
    }

    static func cookie(_ name: String, in headers: HTTPHeaders) -> Substring {
        for header in headers[canonicalForm: "cookie"] {
            for pair in header.split(separator: ";") {
                let pair = pair.trimmingSpaces()
                guard let equals = pair.firstIndex(of: "="), pair[..<equals] == name else { continue }
                return pair[pair.index(after: equals)...]
            }
        }
        return ""
    }

    static func queryParameter(_ name: String, in uri: String) -> Substring {
        guard let question = uri.firstIndex(of: "?") else { return "" }
        for pair in uri[uri.index(after: question)...].split(separator: "&") {
            let equals = pair.firstIndex(of: "=") ?? pair.endIndex
            if pair[..<equals] == name { return equals == pair.endIndex ? "" : pair[pair.index(after: equals)...] }
        }
        return ""
    }
}
