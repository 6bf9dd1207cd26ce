import SluiceCache
import Testing

@Suite struct CacheKeyTests {
    let target = TargetURI("HTTPS://Shop.Example:443/p/a?utm_source=x&id=7&b=2&utm_medium=y")!

    @Test func theDefaultKeyIsTheNormalisedURI() {
        let key = CacheKey(target: target, request: ["Accept": "x"])
        #expect(key.string == "https://shop.example/p/a?utm_source=x&id=7&b=2&utm_medium=y")
        #expect(key.uri == key.string)
    }

    @Test func namedQueryParametersCanBeDropped() {
        let rule = CacheKeyRule(query: .dropping(["utm_source", "utm_medium"]))
        #expect(CacheKey(target: target, request: [:], rule: rule).string == "https://shop.example/p/a?id=7&b=2")
    }

    @Test func onlyNamedQueryParametersCanBeKept() {
        #expect(CacheKey(target: target, request: [:], rule: CacheKeyRule(query: .keepingOnly(["id"]))).string == "https://shop.example/p/a?id=7")
        #expect(CacheKey(target: target, request: [:], rule: CacheKeyRule(query: .keepingOnly(["none"]))).string == "https://shop.example/p/a")
        #expect(CacheKey(target: target, request: [:], rule: CacheKeyRule(query: .ignored)).string == "https://shop.example/p/a")
    }

    @Test func queryParametersCanBeSortedByName() {
        let uri = TargetURI("http://a.example/?b=2&a=1&b=1&a")!
        #expect(CacheKey(target: uri, request: [:], rule: CacheKeyRule(sortsQueryParameters: true)).string == "http://a.example/?a=1&a&b=2&b=1")
    }

    @Test func aHeaderValueJoinsTheKeyAndAbsentDiffersFromEmpty() {
        let rule = CacheKeyRule(headers: ["X-Tenant"])
        let key = CacheKey(target: target, request: ["x-tenant": "blue , green"], rule: rule)
        #expect(key.string == "https://shop.example/p/a?utm_source=x&id=7&b=2&utm_medium=y\nheader:x-tenant=blue,green")
        #expect(key.uri == "https://shop.example/p/a?utm_source=x&id=7&b=2&utm_medium=y")
        #expect(CacheKey(target: target, request: [:], rule: rule).string.hasSuffix("\nheader:x-tenant"))
        #expect(CacheKey(target: target, request: ["X-Tenant": ""], rule: rule).string.hasSuffix("\nheader:x-tenant="))
    }

    @Test func aCookieValueJoinsTheKey() {
        let rule = CacheKeyRule(query: .ignored, cookies: ["variant", "missing"])
        let request: HeaderFields = [("Cookie", "session=abc; variant=b"), ("Cookie", "variant=c")]
        #expect(CacheKey(target: target, request: request, rule: rule).string == "https://shop.example/p/a\ncookie:variant=b\ncookie:missing")
    }

    @Test func theHashIsFNV1a64() {
        // Published FNV-1a 64 test vectors.
        #expect(CacheKey.fnv1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(CacheKey.fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(CacheKey.fnv1a64("foobar") == 0x8594_4171_f739_67e8)
        let key = CacheKey(target: target, request: [:])
        #expect(key.hash == CacheKey.fnv1a64(key.string))
    }
}
