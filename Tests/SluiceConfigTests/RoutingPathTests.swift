import SluiceConfig
import Testing

@Suite struct RoutingPathTests {
    @Test func ordinaryPathsAreKept() {
        #expect(RoutingPath.normalize("/") == "/")
        #expect(RoutingPath.normalize("/api/v1/users?id=3") == "/api/v1/users")
        #expect(RoutingPath.normalize("/a.b/c.d") == "/a.b/c.d")
        #expect(RoutingPath.normalize("/files/") == "/files/")
    }

    @Test func dotSegmentsAndSlashesResolve() {
        #expect(RoutingPath.normalize("/public/../admin") == "/admin")
        #expect(RoutingPath.normalize("/a/./b") == "/a/b")
        #expect(RoutingPath.normalize("/a//b///c") == "/a/b/c")
        #expect(RoutingPath.normalize("/a/b/..") == "/a/")
        #expect(RoutingPath.normalize("/a/.") == "/a/")
    }

    @Test func encodedUnreservedCharactersAreDecodedButSlashesAreNot() {
        #expect(RoutingPath.normalize("/public/%2e%2e/admin") == "/admin")
        #expect(RoutingPath.normalize("/%61pi") == "/api")
        #expect(RoutingPath.normalize("/a%2Fb") == "/a%2Fb")
        #expect(RoutingPath.normalize("/100%") == "/100%")
    }

    @Test func climbingAboveTheRootIsRefused() {
        #expect(RoutingPath.normalize("/../etc/passwd") == nil)
        #expect(RoutingPath.normalize("/a/../../b") == nil)
    }

    @Test func absoluteFormRoutesOnItsPath() {
        #expect(RoutingPath.normalize("http://example.com/x/../y?q") == "/y")
        #expect(RoutingPath.normalize("http://example.com") == "/")
        #expect(RoutingPath.normalize("*") == "*")
    }
}
