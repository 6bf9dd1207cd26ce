import NIOHTTP1
import SluiceBalancing
import SluiceConfig

/// What a request's rate-limit key is made of, gathered once per request.
struct LimitRequest {
    let head: HTTPRequestHead
    /// After `trusted_proxies` resolution.
    let clientIP: String
    let clientAddress: [UInt8]?
    let peerTrusted: Bool
    let route: String
    /// The verified claims the policies' `jwt_claim:` parts asked for (nil = no valid token).
    var claims: [String: String] = [:]
}

/// A policy's key as a 64-bit hash: parts joined with a unit separator, so `a`+`bc` and
/// `ab`+`c` differ. Storing hashes instead of text is what keeps tracked keys small.
enum LimitKey {
    static func hash(_ parts: [LimitKeyPart], request: LimitRequest, ipv6Prefix: Int, regions: RegionIndex?) -> UInt64 {
        if parts.count == 1, case .clientIP = parts[0] {
            return clientKey(request, ipv6Prefix: ipv6Prefix)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for part in parts {
            switch part {
            case .clientIP:
                var key = clientKey(request, ipv6Prefix: ipv6Prefix)
                withUnsafeBytes(of: &key) { bytes.append(contentsOf: $0) }
            case .header(let name):
                // An absent header differs from an empty one: 0x00 cannot occur in a field value.
                if let value = request.head.headers.first(name: name) { bytes.append(contentsOf: value.utf8) } else { bytes.append(0) }
            case .jwtClaim(let name):
                if let claim = request.claims[name] { bytes.append(contentsOf: claim.utf8) } else { bytes.append(0) }
            case .route: bytes.append(contentsOf: request.route.utf8)
            case .method: bytes.append(contentsOf: request.head.method.rawValue.utf8)
            case .region: bytes.append(contentsOf: (regions?.region(of: request) ?? "unknown").utf8)
            }
            bytes.append(0x1F)
        }
        return XXHash64.hash(bytes)
    }

    /// The client address, IPv6 reduced to its first `ipv6Prefix` bits: one host often holds a
    /// whole /64, so per-address keys would let it multiply its limit.
    static func clientKey(_ request: LimitRequest, ipv6Prefix: Int) -> UInt64 {
        guard let address = request.clientAddress, address.count == 16, !isIPv4Mapped(address) else {
            return XXHash64.hash(request.clientIP)
        }
        return XXHash64.hash(CIDR.masked(address, to: ipv6Prefix))
    }

    static func isIPv4Mapped(_ address: [UInt8]) -> Bool {
        address[0..<10].allSatisfy { $0 == 0 } && address[10] == 0xFF && address[11] == 0xFF
    }
}

/// The `region` key part: a trusted edge's header, else the longest matching prefix of the
/// table, looked up by one dictionary probe per distinct prefix length.
struct RegionIndex: Sendable {
    private let header: String?
    /// (prefix length, address family width, masked bytes → region), longest prefix first.
    private let levels: [(length: Int, width: Int, regions: [[UInt8]: String])]

    init(_ config: RegionConfig) {
        header = config.header
        struct Level: Hashable { let length: Int, width: Int }
        var grouped: [Level: [[UInt8]: String]] = [:]
        for (cidr, region) in config.table {
            let level = Level(length: cidr.prefixLength, width: cidr.bytes.count)
            if grouped[level]?[cidr.bytes] == nil { grouped[level, default: [:]][cidr.bytes] = region }  // first line wins
        }
        levels = grouped.sorted { $0.key.length > $1.key.length }.map { ($0.key.length, $0.key.width, $0.value) }
    }

    func region(of request: LimitRequest) -> String? {
        if let header, request.peerTrusted, let value = request.head.headers.first(name: header), !value.isEmpty {
            return value
        }
        guard var address = request.clientAddress else { return nil }
        if address.count == 16, LimitKey.isIPv4Mapped(address) {
            address = Array(address[12..<16])
        }
        for level in levels where level.width == address.count {
            if let region = level.regions[CIDR.masked(address, to: level.length)] { return region }
        }
        return nil
    }
}
