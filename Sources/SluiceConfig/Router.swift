/// A route with its per-route overrides merged over the global limits and timeouts, so the
/// data path reads one value per request instead of resolving inheritance.
public struct ResolvedRoute: Sendable, Equatable {
    public let name: String
    /// Position in `config.routes` (file order), for logs and tie-breaking.
    public let index: Int
    public let match: RouteMatch
    public let cluster: String
    public let maxBodyBytes: Int
    public let upstreamConnect: Duration
    public let upstreamHeader: Duration
    public let upstreamIdle: Duration
    public let hedge: HedgeConfig?
    /// Names of the `rate_limits` policies a request must pass.
    public let rateLimits: [String]
    /// The route's cache block, nil when its responses are not cached (absent or disabled).
    public let cache: RouteCacheConfig?
    /// Whether WebSocket upgrades are relayed, and how long a quiet tunnel lives.
    public var websocket = true
    public var tunnelIdle: Duration = .seconds(3600)
    /// The longest a response may take in all; zero = no limit.
    public var stream: Duration = .zero

    public init(name: String, index: Int, match: RouteMatch, cluster: String, maxBodyBytes: Int,
                upstreamConnect: Duration, upstreamHeader: Duration, upstreamIdle: Duration, hedge: HedgeConfig? = nil,
                rateLimits: [String] = [], cache: RouteCacheConfig? = nil)
    {
        self.rateLimits = rateLimits
        self.cache = cache
        self.name = name
        self.index = index
        self.match = match
        self.cluster = cluster
        self.maxBodyBytes = maxBodyBytes
        self.upstreamConnect = upstreamConnect
        self.upstreamHeader = upstreamHeader
        self.upstreamIdle = upstreamIdle
        self.hedge = hedge
    }
}

/// Picks the route for a request. Pure and immutable: built once per configuration snapshot.
///
/// Precedence, most specific first (the same text is in `sluice.example.yaml`):
/// 1. Host: a route with an exact `host` beats one with a wildcard (`*.example.com`, which
///    matches `a.example.com` and `a.b.example.com` but not `example.com`), which beats a
///    route with no `host`. Among wildcards the longer suffix wins.
/// 2. Then the longer `path_prefix` (a plain string prefix of the path, query excluded, as in
///    nginx and Envoy: `/api` matches `/api`, `/api/x` and `/apix`).
/// 3. Then a route with a `method` beats one without (methods compare case-sensitively).
/// 4. Ties keep file order.
///
/// The routes are sorted by that order once, in `init`; `match` returns the first that
/// matches, allocating nothing but the lowercased host.
public struct Router: Sendable {
    /// In precedence order.
    public let routes: [ResolvedRoute]
    private let matchers: [Matcher]
    /// False when no route looks at the host, so that matching skips normalising it.
    private let usesHost: Bool

    private enum HostRule: Sendable {
        case any
        /// The suffix keeps its leading dot: `*.example.com` is stored as `.example.com`.
        case wildcard(suffix: String)
        case exact(String)
    }

    private struct Matcher: Sendable {
        let host: HostRule
        let pathPrefix: String
        let method: String?

        /// Larger sorts first; see the precedence list.
        var rank: (Int, Int, Int, Int) {
            let hostRank: (Int, Int) = switch host {
            case .exact: (2, 0)
            case .wildcard(let suffix): (1, suffix.utf8.count)
            case .any: (0, 0)
            }
            return (hostRank.0, hostRank.1, pathPrefix.utf8.count, method == nil ? 0 : 1)
        }
    }

    public init(config: SluiceConfig) {
        let resolved = config.routes.enumerated().map { index, route in
            var resolved = ResolvedRoute(
                name: route.name,
                index: index,
                match: route.match,
                cluster: route.cluster,
                maxBodyBytes: route.limits.maxBodyBytes ?? config.limits.maxBodyBytes,
                upstreamConnect: route.timeouts.upstreamConnect ?? config.timeouts.upstreamConnect,
                upstreamHeader: route.timeouts.upstreamHeader ?? config.timeouts.upstreamHeader,
                upstreamIdle: route.timeouts.upstreamIdle ?? config.timeouts.upstreamIdle,
                hedge: route.hedge,
                rateLimits: route.rateLimits,
                cache: route.cache?.enabled == true ? route.cache : nil)
            resolved.websocket = route.websocket
            resolved.tunnelIdle = route.timeouts.tunnelIdle ?? config.timeouts.tunnelIdle
            resolved.stream = route.timeouts.stream ?? config.timeouts.stream
            return resolved
        }
        let ordered = zip(resolved, resolved.map(Router.matcher(for:))).sorted { lhs, rhs in
            let (left, right) = (lhs.1.rank, rhs.1.rank)
            if left != right { return left > right }
            return lhs.0.index < rhs.0.index
        }
        self.routes = ordered.map(\.0)
        self.matchers = ordered.map(\.1)
        self.usesHost = config.routes.contains { $0.match.host != nil }
    }

    /// `host` is the raw Host header (any case, optional `:port`, IPv6 in brackets); `path`
    /// should exclude the query, which is stripped here too in case it does not.
    public func match(host: String?, path: String, method: String) -> ResolvedRoute? {
        let requestHost = usesHost ? host.flatMap(Router.normalizedHost) : nil
        var pathBytes = path.utf8[...]
        if let query = pathBytes.firstIndex(of: UInt8(ascii: "?")) { pathBytes = pathBytes[..<query] }
        for (index, matcher) in matchers.enumerated() {
            switch matcher.host {
            case .any:
                break
            case .exact(let expected):
                guard let requestHost, requestHost == expected else { continue }
            case .wildcard(let suffix):
                // Strictly longer than the suffix: `*.example.com` does not match `example.com`.
                guard let requestHost, requestHost.utf8.count > suffix.utf8.count,
                      requestHost.utf8.suffix(suffix.utf8.count).elementsEqual(suffix.utf8)
                else { continue }
            }
            guard pathBytes.starts(with: matcher.pathPrefix.utf8) else { continue }
            if let expected = matcher.method, expected != method { continue }
            return routes[index]
        }
        return nil
    }

    private static func matcher(for route: ResolvedRoute) -> Matcher {
        let host: HostRule
        switch route.match.host {
        case nil: host = .any
        case let pattern? where pattern.hasPrefix("*."): host = .wildcard(suffix: pattern.dropFirst().lowercased())
        case let name?: host = .exact(name.lowercased())
        }
        return Matcher(host: host, pathPrefix: route.match.pathPrefix, method: route.match.method)
    }

    /// Lowercased, without `:port` and a trailing dot; `[::1]:8080` becomes `[::1]`.
    /// nil when nothing is left, so only host-less routes can match.
    static func normalizedHost(_ raw: String) -> String? {
        var host = Substring(raw)
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { host = host[...close] }
        } else if let colon = host.firstIndex(of: ":") {
            host = host[..<colon]
        }
        if host.hasSuffix(".") { host = host.dropLast() }
        return host.isEmpty ? nil : host.lowercased()
    }
}
