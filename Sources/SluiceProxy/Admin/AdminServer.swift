import Atomics
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceConfig

/// The operators' listener (`admin`): GET /metrics (Prometheus text), /status, /config
/// (secrets redacted), /clusters and /slo (JSON), POST /clusters/{c}/backends/{b}/drain|enable, /healthz (the process answers) and
/// /readyz (503 while draining or before the listeners are up). Its own small channel handler, not the proxy's: none of the proxy's limits or
/// routes apply here, and a slow scrape never competes with traffic for a handler.
enum AdminServer {
    static func bind(config: AdminConfig, group: any EventLoopGroup, runtime: ProxyRuntime,
                     state: AdminState) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(token: config.token, runtime: runtime, state: state))
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

    private let token: String?
    private let runtime: ProxyRuntime
    private let state: AdminState
    private var head: HTTPRequestHead?

    init(token: String?, runtime: ProxyRuntime, state: AdminState) {
        self.token = token
        self.runtime = runtime
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break  // no endpoint takes a body
        case .end:
            guard let head else { return }
            self.head = nil
            let (status, type, body) = answer(head)
            var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(body.utf8.count))])
            if status == .unauthorized { headers.add(name: "WWW-Authenticate", value: "Bearer") }
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
    }

    private func answer(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String, String) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let text = "text/plain; charset=utf-8"
        switch path {
        case "/healthz":
            return (.ok, text, "ok\n")
        case "/readyz":
            let ready = state.ready.load(ordering: .relaxed) && !state.draining.load(ordering: .relaxed)
            return ready ? (.ok, text, "ready\n") : (.serviceUnavailable, text, state.draining.load(ordering: .relaxed) ? "draining\n" : "starting\n")
        default:
            break
        }
        if let token {
            let offered = head.headers.first(name: "authorization") ?? ""
            guard offered.lowercased().hasPrefix("bearer "), Self.constantTimeEqual(String(offered.dropFirst(7)), token) else {
                return (.unauthorized, text, "a bearer token is required\n")
            }
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
            return (.ok, "application/json", runtime.slo.json(now: NIODeadline.now().uptimeNanoseconds))
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", runtime.metrics.render(runtime: runtime))
        case "/status":
            return (.ok, "application/json", status())
        default:
            return (.notFound, text, "no such endpoint; try /metrics, /status, /config, /clusters, /slo, /healthz or /readyz\n")
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
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}\n"
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
