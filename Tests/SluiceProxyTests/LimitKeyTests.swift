import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// Rate-limit keys: which requests share one, IPv6 grouping, and the region sources.
@Suite struct LimitKeyTests {
    static func request(ip: String, headers: HTTPHeaders = [:], method: HTTPMethod = .GET, route: String = "r",
                        trusted: Bool = false) -> LimitRequest {
        LimitRequest(head: HTTPRequestHead(version: .http1_1, method: method, uri: "/", headers: headers), clientIP: ip,
                     clientAddress: CIDR.parseAddress(ip), peerTrusted: trusted, route: route)
    }

    static func key(_ parts: [LimitKeyPart], _ request: LimitRequest, prefix: Int = 64, regions: RegionIndex? = nil) -> UInt64 {
        LimitKey.hash(parts, request: request, ipv6Prefix: prefix, regions: regions)
    }

    @Test func ipv6ClientsShareTheirPrefix() {
        let a = Self.request(ip: "2001:db8:1:2:aaaa::1"), b = Self.request(ip: "2001:db8:1:2:bbbb::9")
        let other = Self.request(ip: "2001:db8:1:3::1")
        #expect(Self.key([.clientIP], a) == Self.key([.clientIP], b))
        #expect(Self.key([.clientIP], a) != Self.key([.clientIP], other))
        #expect(Self.key([.clientIP], a, prefix: 128) != Self.key([.clientIP], b, prefix: 128))
        #expect(Self.key([.clientIP], a, prefix: 48) == Self.key([.clientIP], other, prefix: 48))
        // A prefix inside a byte: /60 keeps the top nibble of the eighth byte.
        let low = Self.request(ip: "2001:db8:1:20::1"), high = Self.request(ip: "2001:db8:1:2f::1"), next = Self.request(ip: "2001:db8:1:30::1")
        #expect(Self.key([.clientIP], low, prefix: 60) == Self.key([.clientIP], high, prefix: 60))
        #expect(Self.key([.clientIP], low, prefix: 60) != Self.key([.clientIP], next, prefix: 60))
        // IPv4, and IPv4 mapped into IPv6, are whole addresses.
        #expect(Self.key([.clientIP], Self.request(ip: "192.0.2.1")) != Self.key([.clientIP], Self.request(ip: "192.0.2.2")))
        #expect(Self.key([.clientIP], Self.request(ip: "::ffff:192.0.2.1")) != Self.key([.clientIP], Self.request(ip: "::ffff:192.0.2.2")))
    }

    @Test func partsCombineWithoutAmbiguity() {
        let parts: [LimitKeyPart] = [.header("A"), .header("B")]
        let ab = Self.request(ip: "192.0.2.1", headers: ["A": "x", "B": "yz"])
        let ba = Self.request(ip: "192.0.2.1", headers: ["A": "xy", "B": "z"])
        #expect(Self.key(parts, ab) != Self.key(parts, ba))
        let byMethod: [LimitKeyPart] = [.clientIP, .method]
        #expect(Self.key(byMethod, Self.request(ip: "192.0.2.1")) != Self.key(byMethod, Self.request(ip: "192.0.2.1", method: .POST)))
        let byRoute: [LimitKeyPart] = [.route]
        #expect(Self.key(byRoute, Self.request(ip: "192.0.2.1", route: "a")) == Self.key(byRoute, Self.request(ip: "192.0.2.9", route: "a")))
        #expect(Self.key(byRoute, Self.request(ip: "192.0.2.1", route: "a")) != Self.key(byRoute, Self.request(ip: "192.0.2.1", route: "b")))
    }

    @Test func regionsComeFromATrustedHeaderElseTheLongestPrefix() throws {
        var config = RegionConfig()
        config.header = "X-Region"
        config.table = try RegionTable.parse("10.0.0.0/8 wide\n10.1.0.0/16 narrow\n2001:db8::/32 six\n").get()
        let index = RegionIndex(config)
        #expect(index.region(of: Self.request(ip: "10.1.2.3")) == "narrow")
        #expect(index.region(of: Self.request(ip: "10.2.0.1")) == "wide")
        #expect(index.region(of: Self.request(ip: "::ffff:10.1.0.1")) == "narrow")
        #expect(index.region(of: Self.request(ip: "2001:db8::5")) == "six")
        #expect(index.region(of: Self.request(ip: "192.0.2.1")) == nil)
        // The header counts only from a trusted proxy.
        #expect(index.region(of: Self.request(ip: "10.1.2.3", headers: ["X-Region": "spoofed"])) == "narrow")
        #expect(index.region(of: Self.request(ip: "10.1.2.3", headers: ["X-Region": "edge"], trusted: true)) == "edge")
        let region: [LimitKeyPart] = [.region]
        #expect(Self.key(region, Self.request(ip: "10.2.0.1"), regions: index) == Self.key(region, Self.request(ip: "10.3.0.1"), regions: index))
        #expect(Self.key(region, Self.request(ip: "10.2.0.1"), regions: index) != Self.key(region, Self.request(ip: "10.1.0.1"), regions: index))
    }
}
