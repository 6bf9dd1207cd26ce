import Atomics
import NIOConcurrencyHelpers
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceConfig

/// The operators' listener (`admin`): GET /metrics (Prometheus text), /status, /config
/// (secrets redacted), /clusters and /slo (JSON), POST /clusters/{c}/backends/{b}/drain|enable,
/// POST /reload, /healthz (the process answers) and /readyz (503 while draining or before the
/// listeners are up). Its own small channel handler, not the proxy's: none of the proxy's limits or
/// routes apply here, and a slow scrape never competes with traffic for a handler.
enum AdminServer {
    static func bind(config: AdminConfig, group: any EventLoopGroup, runtime: ProxyRuntime,
                     state: AdminState, reload: @escaping @Sendable () async -> ReloadOutcome) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Accepting starts once the server has dropped privileges (ProxyServer.start).
            .serverChannelOption(.autoRead, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(runtime: runtime, state: state, reload: reload))
                }
            }
            .bind(host: config.address, port: config.port).get()
    }
}

/// What /readyz and /status report about the server's life.
final class AdminState: Sendable {
    let ready = ManagedAtomic<Bool>(false)
    let draining = ManagedAtomic<Bool>(false)
    let startedAt = NIODeadline.now()
}

private final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private typealias Reply = (status: HTTPResponseStatus, type: String, body: String)

    private let runtime: ProxyRuntime
    private let state: AdminState
    private let reload: @Sendable () async -> ReloadOutcome
    private var head: HTTPRequestHead?

    init(runtime: ProxyRuntime, state: AdminState, reload: @escaping @Sendable () async -> ReloadOutcome) {
        self.runtime = runtime
        self.state = state
        self.reload = reload
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break  // no endpoint takes a body
        case .end:
            guard let head else { return }
            self.head = nil
            if let reply = answer(head) { return send(reply, to: head, context: context) }
            // POST /reload: answered once the reload is done (HTTPServerPipelineHandler holds
            // back a pipelined request until then).
            let promise = context.eventLoop.makePromise(of: ReloadOutcome.self)
            let reload = self.reload
            promise.completeWithTask { await reload() }
            promise.futureResult.assumeIsolated().whenSuccess { outcome in
                let status: HTTPResponseStatus = switch outcome.result {
                case .failed: .unprocessableEntity
                case .stopped: .serviceUnavailable
                case .applied, .unchanged: .ok
                }
                self.send((status, "application/json", outcome.json), to: head, context: context)
            }
        }
    }

    private func send(_ reply: Reply, to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let (status, type, body) = reply
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(body.utf8.count))])
        if status == .unauthorized { headers.add(name: "WWW-Authenticate", value: "Bearer") }
        if Dashboard.types.contains(type) { headers.add(contentsOf: Dashboard.headers) }
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        // HEAD gets the GET's head, Content-Length included, and no body.
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }

    /// The reply, or nil for `POST /reload`, which is answered when the reload is done.
    private func answer(_ head: HTTPRequestHead) -> Reply? {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let text = "text/plain; charset=utf-8"
        switch path {
        case "/healthz":
            return (.ok, text, "ok\n")
        case "/readyz":
            let ready = state.ready.load(ordering: .relaxed) && !state.draining.load(ordering: .relaxed)
            return ready ? (.ok, text, "ready\n") : (.serviceUnavailable, text, state.draining.load(ordering: .relaxed) ? "draining\n" : "starting\n")
        case "/dashboard", "/dashboard/", "/dashboard/dashboard.css", "/dashboard/dashboard.js":
            // Open like the probes: a browser cannot send the token when it loads a page. The
            // files hold no data; the page sends the token (from #token=...) with its fetches.
            guard head.method == .GET || head.method == .HEAD else { return (.methodNotAllowed, text, "only GET\n") }
            return Dashboard.asset(path)
        default:
            break
        }
        // Read per request: a reload may change the token.
        if let token = runtime.snapshot.config.admin.token {
            let offered = head.headers.first(name: "authorization") ?? ""
            guard offered.lowercased().hasPrefix("bearer "), Self.constantTimeEqual(String(offered.dropFirst(7)), token) else {
                return (.unauthorized, text, "a bearer token is required\n")
            }
        }
        if path == "/reload" {
            return head.method == .POST ? nil : (.methodNotAllowed, text, "use POST\n")
        }
        if path == "/cache/purge" {
            guard head.method == .POST else { return (.methodNotAllowed, text, "use POST\n") }
            let query = head.uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            guard let selector = PurgeSelector(query: query) else {
                return (.badRequest, text, "give exactly one of url=, prefix= or tag= (percent-encoded)\n")
            }
            let purged = runtime.purgeEverywhere(selector)
            runtime.logger.notice("cache purged", metadata: ["selector": "\(selector)", "purged": "\(purged)"])
            return (.ok, "application/json", "{\"purged\":\(purged)}\n")
        }
        if let (status, body) = AdminClusters.action(head.method, path, runtime) {
            return (status, status == .ok ? "application/json" : text, body)
        }
        guard head.method == .GET || head.method == .HEAD else { return (.methodNotAllowed, text, "only GET\n") }
        switch path {
        case "/clusters":
            return (.ok, "application/json", AdminClusters.list(runtime))
        case "/config":
            return (.ok, "application/json", ConfigJSON.render(runtime.snapshot.config))
        case "/slo":
            return (.ok, "application/json", runtime.generation.slo.json(now: NIODeadline.now().uptimeNanoseconds))
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", runtime.metrics.render(runtime: runtime))
        case "/status":
            return (.ok, "application/json", status())
        case "/stats":
            return (.ok, "application/json", stats())
        default:
            return (.notFound, text, "no such endpoint; try /dashboard, /metrics, /stats, /status, /config, /clusters, /slo, /healthz or /readyz\n")
        }
    }

    private func status() -> String {
        let snapshot = runtime.snapshot
        let uptime = Double((NIODeadline.now() - state.startedAt).nanoseconds) / 1e9
        let fields: [(String, String)] = [
            ("ready", "\(state.ready.load(ordering: .relaxed) && !state.draining.load(ordering: .relaxed))"),
            ("draining", "\(state.draining.load(ordering: .relaxed))"),
            ("uptime_seconds", format3(uptime)),
            ("connections", "\(runtime.connections.load(ordering: .relaxed))"),
            ("config_source", AccessLog.quoted(snapshot.source)),
            ("config_hash", "\"\(ProxyMetrics.configHash(snapshot.config))\""),
            ("routes", "\(snapshot.config.routes.count)"),
            ("clusters", "\(snapshot.config.clusters.count)"),
            ("rate_limits", "\(snapshot.config.rateLimits.count)"),
            ("generation", "\(snapshot.generation)"),
            ("last_reload", runtime.reloads.last.withLockedValue { $0?.json.dropLast().description } ?? "null"),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}\n"
    }

    /// Totals since start for the dashboard, which turns them into rates between two polls.
    private func stats() -> String {
        let snapshot = runtime.snapshot
        let metrics = runtime.metrics
        let uptime = Double((NIODeadline.now() - state.startedAt).nanoseconds) / 1e9
        let inFlight = runtime.health.all.reduce(0) { sum, cluster in
            sum + cluster.backends.reduce(0) { $0 + $1.inFlight.load(ordering: .relaxed) }
        }
        var allowed = 0, denied = 0, shadowed = 0, storeErrors = 0
        for policy in runtime.generation.limiter.policies.values {
            allowed += policy.counters.allowed.load(ordering: .relaxed)
            denied += policy.counters.denied.load(ordering: .relaxed)
            shadowed += policy.counters.shadowed.load(ordering: .relaxed)
            storeErrors += policy.counters.storeErrors.load(ordering: .relaxed)
        }
        let reloads = runtime.reloads
        let succeeded = reloads.applied.load(ordering: .relaxed) + reloads.unchanged.load(ordering: .relaxed)
        return "{\"uptime_seconds\":\(format3(uptime)),\"requests\":\(metrics.totals.requests),\(metrics.totals.jsonFields),"
            + "\"in_flight\":\(inFlight),\"connections\":\(runtime.connections.load(ordering: .relaxed)),"
            + "\"bytes_in\":\(metrics.totals.bytesIn),\"bytes_out\":\(metrics.totals.bytesOut),"
            + "\"ratelimit\":{\"allowed\":\(allowed),\"denied\":\(denied),\"shadowed\":\(shadowed),\"store_errors\":\(storeErrors)},"
            + "\"cache\":\(cacheStats()),"
            + "\"config\":{\"generation\":\(snapshot.generation),\"hash\":\"\(ProxyMetrics.configHash(snapshot.config))\","
            + "\"source\":\(AccessLog.quoted(snapshot.source)),\"reloads_ok\":\(succeeded),"
            + "\"reloads_failed\":\(reloads.failed.load(ordering: .relaxed))}}\n"
    }

    /// null when no route caches, as the dashboard then says so.
    private func cacheStats() -> String {
        guard runtime.snapshot.config.routes.contains(where: { $0.cache?.enabled == true }) else { return "null" }
        let store = runtime.cache.store
        let c = store.counters
        return "{\"hits\":\(c.hits.load(ordering: .relaxed)),\"misses\":\(c.misses.load(ordering: .relaxed)),"
            + "\"stale\":\(c.staleServed.load(ordering: .relaxed)),\"revalidated\":\(c.revalidated.load(ordering: .relaxed)),"
            + "\"entries\":\(store.objectCount),\"bytes_stored\":\(store.usedBytes),"
            + "\"evictions\":\(c.evictions.load(ordering: .relaxed))}"
    }

    private func format3(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// Compares without stopping at the first difference, so timing does not leak the token.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0 && x.count == y.count
    }
}
