import NIOHTTP1
import SluiceBalancing
import SluiceConfig
import Testing
@testable import SluiceProxy

/// The request side of the hash strategies: which bytes of a request make its affinity key.
@Suite struct HashKeyTests {
    static func head(_ uri: String = "/", _ headers: HTTPHeaders = [:]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers)
    }

    @Test func clientIPIsThePeerUnlessThePeerIsATrustedProxy() throws {
        let trusted = try [#require(CIDR("10.0.0.0/8"))]
        let head = Self.head("/", ["X-Forwarded-For": "203.0.113.7, 10.1.1.1"])
        #expect(HashKey.clientIP(head: head, peer: ClientPeer(ip: "192.0.2.1", isTrusted: false), trusted: trusted) == "192.0.2.1")
        // From a trusted peer: the rightmost entry that is not itself a trusted proxy.
        #expect(HashKey.clientIP(head: head, peer: ClientPeer(ip: "10.0.0.2", isTrusted: true), trusted: trusted) == "203.0.113.7")
        let garbage = Self.head("/", ["X-Forwarded-For": "not-an-ip"])
        #expect(HashKey.clientIP(head: garbage, peer: ClientPeer(ip: "10.0.0.2", isTrusted: true), trusted: trusted) == "10.0.0.2")
    }

    @Test func ipHashKeysOnTheSlash24() {
        #expect(HashKey.ipHash(clientIP: "198.51.100.7") == HashKey.ipHash(clientIP: "198.51.100.200"))
        #expect(HashKey.ipHash(clientIP: "198.51.100.7") != HashKey.ipHash(clientIP: "198.51.101.7"))
        #expect(HashKey.ipHash(clientIP: "2001:db8::1") != HashKey.ipHash(clientIP: "2001:db8::2"))
    }

    @Test func partsReadTheirOwnPieceOfTheRequest() {
        let head = Self.head("/cart/items?user=42&x=1", ["Cookie": "a=1; sid=abc", "X-User": "alice"])
        func key(_ parts: [HashKeyPart]) -> UInt64 { HashKey.compute(parts, head: head, clientIP: "192.0.2.1") }
        #expect(key([.header("x-user")]) == XXHash64.hash("alice"))
        #expect(key([.cookie("sid")]) == XXHash64.hash("abc"))
        #expect(key([.query("user")]) == XXHash64.hash("42"))
        #expect(key([.path]) == XXHash64.hash("/cart/items"))
        #expect(key([.clientIP]) == XXHash64.hash("192.0.2.1"))
        // Combined parts are joined by a zero byte, in order.
        #expect(key([.header("X-User"), .query("user")]) == XXHash64.hash(Array("alice".utf8) + [0] + Array("42".utf8)))
        #expect(key([.query("user"), .header("X-User")]) != key([.header("X-User"), .query("user")]))
        // Missing pieces are empty, not an error.
        #expect(key([.cookie("none")]) == XXHash64.hash(""))
        #expect(key([.query("none")]) == XXHash64.hash(""))
    }
}
