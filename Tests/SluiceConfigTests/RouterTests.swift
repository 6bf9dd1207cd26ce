import Testing
@testable import SluiceConfig

@Suite struct RouterTests {
    /// A router over routes given as (name, host, prefix, method), all to cluster "c".
    func router(_ routes: [(String, String?, String, String?)], limits: Limits = Limits()) -> Router {
        let config = SluiceConfig(
            clusters: [ClusterConfig(name: "c")],
            routes: routes.map { name, host, prefix, method in
                RouteConfig(name: name, match: RouteMatch(host: host, pathPrefix: prefix, method: method), cluster: "c")
            },
            limits: limits)
        return Router(config: config)
    }

    func name(_ router: Router, host: String?, path: String = "/", method: String = "GET") -> String? {
        router.match(host: host, path: path, method: method)?.name
    }

    @Test func exactHostBeatsWildcardBeatsNoHost() {
        let r = router([("any", nil, "/", nil), ("wild", "*.example.com", "/", nil), ("exact", "a.example.com", "/", nil)])
        #expect(name(r, host: "a.example.com") == "exact")
        #expect(name(r, host: "b.example.com") == "wild")
        #expect(name(r, host: "other.org") == "any")
        #expect(name(r, host: nil) == "any")
    }

    @Test func wildcardMatchesDeeperSubdomainsButNotTheApex() {
        let r = router([("wild", "*.example.com", "/", nil)])
        #expect(name(r, host: "a.b.example.com") == "wild")
        #expect(name(r, host: "example.com") == nil)
        #expect(name(r, host: "badexample.com") == nil)
    }

    @Test func longerWildcardSuffixWins() {
        let r = router([("short", "*.example.com", "/", nil), ("long", "*.api.example.com", "/", nil)])
        #expect(name(r, host: "x.api.example.com") == "long")
        #expect(name(r, host: "x.www.example.com") == "short")
    }

    @Test func hostRankBeatsPathLength() {
        let r = router([("anyLong", nil, "/very/long/prefix", nil), ("exactShort", "h.com", "/", nil)])
        #expect(name(r, host: "h.com", path: "/very/long/prefix/x") == "exactShort")
    }

    @Test func longerPathPrefixWins() {
        let r = router([("root", nil, "/", nil), ("api", nil, "/api", nil), ("v1", nil, "/api/v1/", nil)])
        #expect(name(r, host: nil, path: "/api/v1/users") == "v1")
        #expect(name(r, host: nil, path: "/api/v2") == "api")
        #expect(name(r, host: nil, path: "/apix") == "api")
        #expect(name(r, host: nil, path: "/other") == "root")
    }

    @Test func pathPrefixBeatsMethod() {
        let r = router([("get", nil, "/", "GET"), ("api", nil, "/api", nil)])
        #expect(name(r, host: nil, path: "/api") == "api")
    }

    @Test func methodRouteBeatsOneWithout() {
        let r = router([("all", nil, "/", nil), ("post", nil, "/", "POST")])
        #expect(name(r, host: nil, method: "POST") == "post")
        #expect(name(r, host: nil, method: "GET") == "all")
        // Case-sensitive, as RFC 9110 says methods are.
        #expect(name(r, host: nil, method: "post") == "all")
    }

    @Test func tiesKeepFileOrder() {
        let r = router([("first", nil, "/a", nil), ("second", nil, "/a", nil)])
        #expect(name(r, host: nil, path: "/a") == "first")
        #expect(r.routes.map(\.index) == [0, 1])
    }

    @Test func routesAreListedInPrecedenceOrder() {
        let r = router([("any", nil, "/", nil), ("exact", "h.com", "/", nil), ("wild", "*.h.com", "/", nil)])
        #expect(r.routes.map(\.name) == ["exact", "wild", "any"])
        #expect(r.routes.map(\.index) == [1, 2, 0])
    }

    @Test func hostHeaderIsNormalized() {
        let r = router([("exact", "api.example.com", "/", nil), ("v6", "[::1]", "/", nil)])
        #expect(name(r, host: "API.Example.COM") == "exact")
        #expect(name(r, host: "api.example.com:8080") == "exact")
        #expect(name(r, host: "api.example.com.") == "exact")
        #expect(name(r, host: "[::1]:8080") == "v6")
        #expect(name(r, host: "[::1]") == "v6")
        #expect(Router.normalizedHost("[::1]:8080") == "[::1]")
        #expect(Router.normalizedHost(":80") == nil)
    }

    @Test func queryIsStripped() {
        let r = router([("api", nil, "/api", nil)])
        #expect(name(r, host: nil, path: "/api?x=1") == "api")
        #expect(name(r, host: nil, path: "/ap?i") == nil)
    }

    @Test func noMatchIsNil() {
        let r = router([("api", "api.example.com", "/api", "GET")])
        #expect(name(r, host: "other.com", path: "/api") == nil)
        #expect(name(r, host: "api.example.com", path: "/web") == nil)
        #expect(name(r, host: "api.example.com", path: "/api", method: "POST") == nil)
        #expect(name(r, host: nil, path: "/api") == nil)
        #expect(Router(config: SluiceConfig()).match(host: "a", path: "/", method: "GET") == nil)
    }

    @Test func perRouteOverridesMergeWithGlobals() throws {
        let yaml = """
        clusters: [{ name: web }]
        limits: { max_body_bytes: 10MiB }
        timeouts: { upstream_connect: 4s, upstream_header: 20s, upstream_idle: 30s }
        routes:
          - name: upload
            match: { path_prefix: /upload }
            cluster: web
            limits: { max_body_bytes: 1GiB }
            timeouts: { upstream_header: 2m }
          - name: plain
            cluster: web
        """
        let router = Router(config: try load(yaml))
        let upload = try #require(router.match(host: nil, path: "/upload/x", method: "PUT"))
        #expect(upload == ResolvedRoute(
            name: "upload", index: 0, match: RouteMatch(pathPrefix: "/upload"), cluster: "web", maxBodyBytes: 1 << 30,
            upstreamConnect: .seconds(4), upstreamHeader: .seconds(120), upstreamIdle: .seconds(30)))
        let plain = try #require(router.match(host: nil, path: "/", method: "GET"))
        #expect(plain.index == 1)
        #expect(plain.maxBodyBytes == 10 << 20)
        #expect(plain.upstreamHeader == .seconds(20))
    }

    @Test func snapshotIndexesClustersAndBuildsRouter() throws {
        let config = try load("clusters: [{ name: web }, { name: api }]\nroutes: [{ cluster: api }]\n")
        let snapshot = Snapshot(config: config, source: "test.yaml", generation: 3)
        #expect(snapshot.clusters.keys.sorted() == ["api", "web"])
        #expect(snapshot.router.match(host: nil, path: "/", method: "GET")?.cluster == "api")
        #expect(snapshot.generation == 3)
        #expect(Snapshot(config: config, source: "s").generation == 1)
    }
}
