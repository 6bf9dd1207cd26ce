import Testing
@testable import SluiceConfig

@Suite struct CIDRTests {
    @Test func parsesIPv4NetworkAndZeroesHostBits() throws {
        let cidr = try #require(CIDR("10.1.2.3/8"))
        #expect(cidr.bytes == [10, 0, 0, 0])
        #expect(cidr.prefixLength == 8)
        #expect(cidr.description == "10.0.0.0/8")
    }

    @Test func bareAddressesAreSingleHosts() throws {
        #expect(try #require(CIDR("192.0.2.7")).prefixLength == 32)
        #expect(try #require(CIDR("::1")).prefixLength == 128)
        #expect(CIDR("::1")?.description == "::1/128")
    }

    @Test func parsesIPv6Networks() throws {
        let cidr = try #require(CIDR("2001:db8::/32"))
        #expect(cidr.bytes.count == 16)
        #expect(cidr.description == "2001:db8::/32")
        #expect(cidr.contains(CIDR.parseAddress("2001:db8:ffff::1")!))
        #expect(!cidr.contains(CIDR.parseAddress("2001:db9::1")!))
    }

    @Test func containsIPv4() throws {
        let cidr = try #require(CIDR("172.16.0.0/12"))
        #expect(cidr.contains([172, 16, 0, 1]))
        #expect(cidr.contains([172, 31, 255, 255]))
        #expect(!cidr.contains([172, 32, 0, 0]))
        #expect(!cidr.contains([1, 2, 3]))
    }

    @Test func nonByteAlignedPrefix() throws {
        let cidr = try #require(CIDR("192.168.1.128/25"))
        #expect(cidr.contains([192, 168, 1, 200]))
        #expect(!cidr.contains([192, 168, 1, 127]))
    }

    @Test func mappedIPv4MatchesIPv4CIDRAndBack() throws {
        let v4 = try #require(CIDR("10.0.0.0/8"))
        #expect(v4.contains(CIDR.parseAddress("::ffff:10.1.2.3")!))
        #expect(!v4.contains(CIDR.parseAddress("::ffff:11.1.2.3")!))
        #expect(!v4.contains(CIDR.parseAddress("::10.1.2.3")!))
        let mapped = try #require(CIDR("::ffff:10.0.0.0/104"))
        #expect(mapped.contains([10, 9, 9, 9]))
    }

    @Test func zeroPrefixMatchesEverythingOfItsFamily() throws {
        #expect(try #require(CIDR("0.0.0.0/0")).contains([8, 8, 8, 8]))
        #expect(try #require(CIDR("::/0")).contains(CIDR.parseAddress("2001:db8::1")!))
    }

    @Test(arguments: ["10.0.0.0/33", "::/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/+8", "10.0.0.0/-1",
                      "example.com", "", "/8", "10.0.0.0/8/8", "1.2.3.4.5", "fe80::1%eth0", "::1/a"])
    func rejectsInvalid(_ text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test func parseAddress() {
        #expect(CIDR.parseAddress("127.0.0.1") == [127, 0, 0, 1])
        #expect(CIDR.parseAddress("::1") == [UInt8](repeating: 0, count: 15) + [1])
        #expect(CIDR.parseAddress("256.0.0.1") == nil)
        #expect(CIDR.parseAddress("localhost") == nil)
    }
}
