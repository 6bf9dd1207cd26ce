import SluiceCache
import Testing

@Suite struct InvalidationTests {
    let target = TargetURI("https://shop.example/api/carts/3?view=full")!

    func invalidated(_ response: HeaderFields = [:], method: String = "POST", status: Int = 200) -> [String] {
        Invalidation.invalidatedURIs(method: method, target: target, status: status, response: response).map(\.string)
    }

    @Test func anUnsafeMethodInvalidatesItsTarget() {
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            #expect(invalidated(method: method, status: 204) == ["https://shop.example/api/carts/3?view=full"], "\(method)")
        }
    }

    @Test func aMethodOfUnknownSafetyCountsAsUnsafe() {
        #expect(invalidated(method: "FROBNICATE") == ["https://shop.example/api/carts/3?view=full"])
    }

    @Test func safeMethodsInvalidateNothing() {
        for method in ["GET", "HEAD", "OPTIONS", "TRACE"] { #expect(invalidated(method: method).isEmpty, "\(method)") }
    }

    @Test func errorResponsesInvalidateNothing() {
        #expect(invalidated(status: 404).isEmpty)
        #expect(invalidated(status: 503).isEmpty)
        #expect(invalidated(status: 303) == ["https://shop.example/api/carts/3?view=full"])
    }

    @Test func relativeLocationAndContentLocationAreResolvedAgainstTheTarget() {
        #expect(invalidated([("Location", "../items/7"), ("Content-Location", "/api/carts/3/summary?x=1")], status: 201) == [
            "https://shop.example/api/carts/3?view=full", "https://shop.example/api/items/7", "https://shop.example/api/carts/3/summary?x=1",
        ])
    }

    @Test func anotherOriginIsNeverInvalidated() {
        for location in ["https://evil.example/api/carts/3", "http://shop.example/api/carts/3", "https://shop.example:8443/x", "//other.example/x", "mailto:a@b"] {
            #expect(invalidated(["Location": location]) == ["https://shop.example/api/carts/3?view=full"], "\(location)")
        }
        #expect(invalidated(["Location": "HTTPS://SHOP.example:443/done"]).last == "https://shop.example/done")
    }

    @Test func aLocationEqualToTheTargetAppearsOnce() {
        #expect(invalidated(["Location": "3?view=full"]) == ["https://shop.example/api/carts/3?view=full"])
    }
}

@Suite struct TargetURITests {
    @Test func schemeHostAndDefaultPortAreNormalised() {
        #expect(TargetURI("HTTPS://Example.COM:443")?.string == "https://example.com/")
        #expect(TargetURI("http://example.com:8080/A?B")?.string == "http://example.com:8080/A?B")
        #expect(TargetURI("http://user:pw@example.com:/p#frag")?.string == "http://example.com/p")
        #expect(TargetURI("http://[::1]:8080/")?.origin == "http://[::1]:8080")
        #expect(TargetURI(scheme: "HTTP", host: "A.example", port: 80, path: "").string == "http://a.example/")
    }

    @Test func aRequestTargetIsReadInOriginOrAbsoluteForm() {
        #expect(TargetURI(scheme: "https", authority: "Shop.Example:443", requestTarget: "/a?b=1")?.string == "https://shop.example/a?b=1")
        #expect(TargetURI(scheme: "http", authority: "ignored", requestTarget: "http://b.example:81/x")?.string == "http://b.example:81/x")
        #expect(TargetURI(scheme: "http", authority: "a.example", requestTarget: "*") == nil)
        #expect(TargetURI(scheme: "http", authority: "a.example/evil", requestTarget: "/x") == nil)
        #expect(TargetURI(scheme: "http", authority: "victim@a.example", requestTarget: "/x") == nil)
    }

    @Test func aRequestTargetKeepsItsDotSegments() {
        // Only references are resolved; the target is keyed as the origin was asked for it.
        #expect(TargetURI("http://a.example/x/../b")?.path == "/x/../b")
        #expect(TargetURI("http://a.example/x/")?.resolving("../b")?.path == "/b")
    }

    @Test func notAnAbsoluteHTTPURI() {
        for text in ["/relative", "ftp://example.com/", "http:/no-authority", "http://", "http://example.com:99999/", "http://h:8a/"] {
            #expect(TargetURI(text) == nil, "\(text)")
        }
    }

    @Test func resolvesRFC3986NormalExamples() {
        // RFC 3986 §5.4.1 (with http, and fragments dropped as the cache does).
        let base = TargetURI("http://a/b/c/d;p?q")!
        let examples = [
            "g": "http://a/b/c/g", "./g": "http://a/b/c/g", "g/": "http://a/b/c/g/", "/g": "http://a/g", "//g": "http://g/",
            "?y": "http://a/b/c/d;p?y", "g?y": "http://a/b/c/g?y", "#s": "http://a/b/c/d;p?q", "g#s": "http://a/b/c/g",
            ";x": "http://a/b/c/;x", "": "http://a/b/c/d;p?q", ".": "http://a/b/c/", "./": "http://a/b/c/", "..": "http://a/b/",
            "../": "http://a/b/", "../g": "http://a/b/g", "../..": "http://a/", "../../": "http://a/", "../../g": "http://a/g",
        ]
        for (reference, expected) in examples { #expect(base.resolving(reference)?.string == expected, "\(reference)") }
    }

    @Test func resolvesRFC3986AbnormalExamples() {
        // RFC 3986 §5.4.2.
        let base = TargetURI("http://a/b/c/d;p?q")!
        let examples = [
            "../../../g": "http://a/g", "../../../../g": "http://a/g", "/./g": "http://a/g", "/../g": "http://a/g",
            "g.": "http://a/b/c/g.", ".g": "http://a/b/c/.g", "g..": "http://a/b/c/g..", "..g": "http://a/b/c/..g",
            "./../g": "http://a/b/g", "./g/.": "http://a/b/c/g/", "g/./h": "http://a/b/c/g/h", "g/../h": "http://a/b/c/h",
            "g;x=1/./y": "http://a/b/c/g;x=1/y", "g;x=1/../y": "http://a/b/c/y", "g?y/./x": "http://a/b/c/g?y/./x",
        ]
        for (reference, expected) in examples { #expect(base.resolving(reference)?.string == expected, "\(reference)") }
    }
}
