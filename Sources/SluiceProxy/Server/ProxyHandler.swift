import Atomics
import DequeModule
import Logging
import NIOCore
import NIOHTTP1
import SluiceBalancing
import SluiceConfig

/// The life of one client request, phase by phase, as this file reads top to bottom:
///
/// 1. **head**: validate framing and limits (RequestValidation: smuggling defence, 400/413/414/431),
/// 2. **route**: host + path + method → route (Router, in the snapshot the request started on),
/// 2½. **rate limits** (ProxyHandler+RateLimits.swift), then on a cached route the **cache**
///    (Cache/ProxyHandler+CacheLookup.swift): a hit is answered here, a miss may wait for
///    another request's fetch of the same object,
/// 3. **pick**: the route's cluster → a backend (Balancer on this event loop, over the shared
///    health: checks, ejections, drain, circuit breakers),
/// 4. **connect**: a pooled keep-alive connection, or a new one (`upstream_connect`, 502/504),
/// 5. **forward**: the rewritten head (HeaderRewriting), then the body as it arrives,
/// 6. **respond**: the response head (`upstream_header`, 504), then the body as it arrives
///    (`upstream_idle`), with backpressure both ways,
/// 7. **finish**: the upstream connection back to its pool if it may be reused, one access-log line.
///
/// A try that fails before any response byte reached the client may go to another backend
/// (ProxyHandler+Retries.swift); a slow one may be raced by a hedge (ProxyHandler+Hedging.swift).
/// Pipelined requests are served one at a time, in order (ProxyHandler+Pipelining.swift).
final class ProxyHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let runtime: ProxyRuntime
    let loop: LoopState
    /// Its trust is judged again when a reload changes `headers.trusted_proxies`.
    var peer: ClientPeer
    let clientTimeouts: ClientTimeoutHandler
    /// The HTTP/1.1 connection's encoder, through which a cache hit goes as bytes; nil on an
    /// HTTP/2 stream, and where a handler between them (HSTS) must see each response head.
    var responseEncoder: ClientResponseEncoder?
    /// `upstream_header` until the response head, then `upstream_idle` between body reads.
    var upstreamTimer: UpstreamDeadline?
    var context: ChannelHandlerContext?
    var exchange: Exchange?
    private var nextExchangeID = 0
    private var requestsOnConnection = 0
    var readsPaused = false
    /// A request waits on its rate limits (the shared store, a token check): later parts queue.
    var admitting = false
    var readPending = false
    /// Set once Sluice has decided to close the connection: bytes after a refused or final
    /// request are never treated as a new request.
    var closing = false
    /// Pipelining state: parts of later requests wait until the current response is done.
    var queued: Deque<Pipelined> = []
    var currentRequestOpen = false
    var responsePending = false
    var draining = false
    var quiescing = false
    /// The parser failed: the connection ends after the answers already due.
    var parseFailed = false
    /// The request just read cannot be followed by another (Upgrade, Connection: close):
    /// nothing more is read until its response is done and the connection closes.
    var holdingAfterLastRequest = false
    /// Whether the current request's head announced a body (for lingering close).
    var currentRequestMayHaveBody = false
    /// A reload changed what this connection took at accept: the next response ends it.
    var reconnectRequested = false
    /// Close at once, without lingering (drain timeout).
    var forceFullClose = false

    init(runtime: ProxyRuntime, loop: LoopState, peer: ClientPeer, clientTimeouts: ClientTimeoutHandler) {
        self.runtime = runtime
        self.loop = loop
        self.peer = peer
        self.clientTimeouts = clientTimeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // On HTTP/1.1 the connection's timer, in no pipeline (HTTP/2 streams) one of its own.
        let timer = clientTimeouts.timer ?? {
            let timeouts = runtime.snapshot.config.timeouts
            return DeadlineTimer(timers: loop.timers, step: TimeAmount(min(timeouts.upstreamHeader, timeouts.upstreamIdle)))
        }()
        // Unowned, not weak (as in ClientTimeoutHandler): both closures go in handlerRemoved.
        timer.onSecondExpiry = { [unowned self] in self.upstreamTimerExpired() }
        upstreamTimer = UpstreamDeadline(timer: timer)
        clientTimeouts.onBodyTimeout = { [unowned self] in self.clientBodyTimedOut() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        upstreamTimer?.timer.cancelSecond()
        upstreamTimer?.timer.onSecondExpiry = {}
        clientTimeouts.onBodyTimeout = {}
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let part = unwrapInboundIn(data)
        if admitting || !queued.isEmpty || (responsePending && !currentRequestOpen) {
            queued.append(.part(part))  // a pipelined request: its turn comes after this response
            return
        }
        process(part, context: context)
    }

    func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            currentRequestOpen = true
            responsePending = true
            currentRequestMayHaveBody = head.headers.contains(name: "content-length") || head.headers.contains(name: "transfer-encoding")
            receivedHead(head, context: context)
        case .body(let body):
            receivedBody(body)
        case .end(let trailers):
            currentRequestOpen = false
            if let exchange, !exchange.clientKeepAlive { holdingAfterLastRequest = true }
            receivedEnd(trailers)
            if quiescing, !responsePending { closeNow() }
        }
    }

    // MARK: 1–4: head, route, pick, connect

    private func receivedHead(_ received: HTTPRequestHead, context: ChannelHandlerContext) {
        var head = received
        clientTimeouts.requestHeadReceived(expectingBody: currentRequestMayHaveBody)
        let generation = runtime.generation
        let snapshot = generation.snapshot
        let policy = snapshot.config.headers
        let offered = head.headers.first(name: policy.requestID)
        let requestID = offered.flatMap { RequestID.isAcceptable($0) ? $0 : nil } ?? RequestID.generate(using: &loop.random)
        let trace = TraceContext(head.headers, random: &loop.random)
        let local = LocalAnswer(head: head, requestID: requestID, idHeader: policy.requestID, trace: trace, generation: generation)

        let framing: BodyFraming
        switch RequestValidation.framing(of: head, limits: snapshot.config.limits) {
        case .success(let f): framing = f
        case .failure(let rejection):
            return answer(local, rejection.status, rejection.reason, close: true)
        }
        let hasBody = framing != .none
        // After an Upgrade request NIO's parser stops (the upgrade itself is not forwarded:
        // Upgrade is hop-by-hop), so the connection cannot carry another request.
        requestsOnConnection += 1
        let maxRequests = snapshot.config.limits.maxRequestsPerConnection
        // The last request `max_requests_per_connection` allows is answered with Connection: close.
        let keepAlive = head.isKeepAlive && !head.headers.contains(name: "upgrade") && !reconnectRequested
            && (maxRequests == 0 || requestsOnConnection < maxRequests)
        // A local answer closes when the connection cannot go on, or when the body the client
        // is still sending would otherwise have to be read and thrown away.
        let closeLocal = hasBody || !keepAlive
        if head.method == .CONNECT {
            return answer(local, .methodNotAllowed, "CONNECT is not supported by this listener", close: true)
        }
        // RFC 9112 §3.2.2: an absolute-form target's authority replaces Host, for routing,
        // the cache and the backend alike; the backend gets origin-form (§3.2.1).
        switch RequestValidation.originForm(head.uri) {
        case .unchanged: break
        case .rewritten(let authority, let target):
            head.uri = target
            head.headers.replaceOrAdd(name: "host", value: authority)
        case .invalid:
            return answer(local, .badRequest, "invalid authority in the request target", close: true)
        }

        if let redirect = peer.httpsRedirect { return redirectToHTTPS(head, local, redirect, close: closeLocal) }
        guard let routingPath = RoutingPath.normalize(head.uri) else {
            return answer(local, .badRequest, "request path climbs above the root", close: true)
        }
        guard let route = snapshot.router.match(host: head.headers.first(name: "host"), path: routingPath, method: head.method.rawValue) else {
            return answer(local, .notFound, "no route for this host and path", close: closeLocal)
        }
        if head.method.rawValue == "PURGE" { return purge(head, local, route: route, close: closeLocal) }
        if case .length(let length) = framing, route.maxBodyBytes > 0, length > route.maxBodyBytes {
            return answer(local, .payloadTooLarge, "request body larger than \(route.maxBodyBytes) bytes", close: true, route: route.name)
        }
        // keepAlive is false for any Upgrade request: only those are looked at further.
        let upgrade = !keepAlive && route.websocket ? Self.webSocketUpgrade(head, framing: framing) : nil
        let admitted = AdmittedHead(head: head, local: local, framing: framing, keepAlive: keepAlive, closeLocal: closeLocal,
                                    route: route, generation: generation, upgrade: upgrade)
        guard !route.rateLimits.isEmpty else { return forward(admitted, limitFields: []) }
        checkRateLimits(admitted, context: context)
    }

    /// 3–4 for a request its rate limits admitted: the cache first on a cached route, then
    /// pick a backend and start the first try.
    func forward(_ admitted: AdmittedHead, limitFields: [(String, String)]) {
        var cache: CacheRequest?
        // A WebSocket handshake is never a cache matter.
        if admitted.route.cache != nil, admitted.upgrade == nil {
            switch lookUpCache(admitted, limitFields: limitFields) {
            case .handled: return
            case .forward(let request): cache = request
            }
        }
        forwardUpstream(admitted, limitFields: limitFields, cache: cache)
    }

    func forwardUpstream(_ admitted: AdmittedHead, limitFields: [(String, String)], cache: CacheRequest?) {
        let (head, local, framing, route, snapshot) = (admitted.head, admitted.local, admitted.framing, admitted.route, admitted.snapshot)
        let (keepAlive, closeLocal, hasBody) = (admitted.keepAlive, admitted.closeLocal, admitted.framing != .none)
        let policy = snapshot.config.headers
        let requestID = local.requestID
        guard let cluster = loop.cluster(named: route.cluster, in: snapshot, latest: runtime.generation) else {
            if let cache, cacheCannotForward(cache) { return }
            return answer(local, .serviceUnavailable, "cluster \(route.cluster) has no state", close: closeLocal, route: route.name)
        }
        let hashKey = self.hashKey(for: head, cluster: cluster.config, policy: policy)
        let now = NIODeadline.now().uptimeNanoseconds
        guard let index = cluster.pick(hashKey: hashKey, excluding: [], now: now, random: &loop.random) else {
            if let cache, cacheCannotForward(cache) { return }
            return answer(local, .serviceUnavailable, "no backend available in cluster \(route.cluster)", close: closeLocal,
                          route: route.name, retryAfter: cluster.retryAfterSeconds(now: now))
        }
        cluster.retryBudget.recordRequest(now: now)

        // HTTP/2 to the backends has no Upgrade (RFC 8441 upstream is not built): the request goes
        // as a plain one, without its Upgrade fields, as nginx sends it without proxy_set_header.
        let http2 = cluster.config.http2 != nil
        let upgrade = http2 ? nil : admitted.upgrade
        nextExchangeID += 1
        let exchange = Exchange(
            id: nextExchangeID,
            head: head,
            requestID: requestID,
            route: route,
            cluster: cluster,
            backendIndex: index,
            hashKey: hashKey,
            upstreamHead: HeaderRewriting.upstreamHead(
                from: head, framing: framing, peer: peer, policy: policy, requestID: requestID,
                backendAddress: cluster.addresses[index], trace: local.trace, upgrade: upgrade, http2: http2
            ),
            framing: framing,
            headerPolicy: policy,
            clientSend: snapshot.config.timeouts.clientSend,
            clientKeepAlive: keepAlive && !quiescing && !reconnectRequested,
            generation: admitted.generation
        )
        exchange.limitFields = limitFields
        exchange.traceID = local.trace.traceID
        exchange.upgrade = upgrade
        if let cache {
            exchange.cache = cache
            prepareUpstream(exchange, cache)
        }
        self.exchange = exchange

        if hasBody, head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            context?.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }
        if route.stream > .zero, let loop = context?.eventLoop {
            exchange.streamTimer = loop.assumeIsolated().scheduleTask(in: TimeAmount(route.stream)) { [weak self] in
                guard let self, self.exchange === exchange else { return }
                self.fail(exchange, .gatewayTimeout, "stream timeout after \(route.stream) on route \(route.name)")
            }
        }
        // Nothing more is read from the client until the upstream can take it.
        pauseReads()
        startTry(exchange)
    }

    /// The affinity key, computed only for the strategies that use one.
    private func hashKey(for head: HTTPRequestHead, cluster: ClusterConfig, policy: HeaderPolicy) -> UInt64? {
        guard cluster.balancer.usesHashKey else { return nil }
        let clientIP = HashKey.clientIP(head: head, peer: peer, trusted: policy.trustedProxies)
        if cluster.balancer == .ipHash { return HashKey.ipHash(clientIP: clientIP) }
        return HashKey.compute(cluster.hash.key, head: head, clientIP: clientIP)
    }

    /// One try: a backend's in-flight slot, then a pooled or new connection to it.
    func startTry(_ exchange: Exchange, freshConnection: Bool = false) {
        let attempt = exchange.beginTry()
        let pool = exchange.pool
        let backend = exchange.backend
        // An upgrade consumes its connection: never a pooled one, never back to the pool.
        let fresh = freshConnection || exchange.upgrade != nil
        let connecting = fresh || !pool.hasIdleConnection
        if connecting { backend.pendingConnects.wrappingIncrement(ordering: .relaxed) }
        pool.acquire(connectTimeout: TimeAmount(exchange.route.upstreamConnect), fresh: fresh) { result in
            if connecting { backend.pendingConnects.wrappingDecrement(ordering: .relaxed) }
            guard let current = self.exchange, current === exchange, exchange.tries == attempt else {
                // The client left, or this try was given up, while it connected.
                if case .success(let connection) = result { pool.release(connection) }
                return
            }
            self.connected(result, exchange)
        }
    }

    func connected(_ result: Result<UpstreamConnection, any Error>, _ exchange: Exchange) {
        switch result {
        case .failure(let error):
            if case UpstreamConnectError.timeout = error {
                backendFailed(exchange, .timeout, .gatewayTimeout, "upstream connect timeout to \(exchange.backendAddress)",
                              connecting: true)
            } else if case UpstreamConnectError.tlsHandshake(let detail) = error {
                // The cause (certificate, name, CA) goes to the log, not to the client.
                backendFailed(exchange, .connectFailure, .badGateway, "upstream TLS handshake failed with \(exchange.backendAddress)",
                              detail: detail, connecting: true)
            } else {
                backendFailed(exchange, .connectFailure, .badGateway, "upstream connect failed to \(exchange.backendAddress)",
                              detail: "\(error)", connecting: true)
            }
        case .success(let connection) where !connection.channel.isActive:
            // Closed between the connect and now, while nothing listened for its close: a TLS
            // 1.3 backend refuses a client certificate only after the client's handshake ends.
            backendFailed(exchange, .connectFailure, .badGateway, "upstream \(exchange.backendAddress) closed the connection",
                          connecting: true)
        case .success(let connection):
            exchange.connection = connection
            connection.requestsServed += 1
            exchange.onReusedConnection = connection.requestsServed > 1
            connection.handler.delegate = self
            exchange.upstreamStarted = .now()
            connection.write(.head(exchange.upstreamHead))
            for part in exchange.pending {
                connection.write(part)
                exchange.keepForReplay(part)
            }
            exchange.pending = []
            connection.flush()
            // A synchronous failure of that flush may have ended this exchange already.
            guard self.exchange === exchange, exchange.connection === connection else { return }
            if exchange.requestEnded { armHeaderTimer(exchange) }
            connection.handler.setReadsPaused(!(context?.channel.isWritable ?? true))
            if connection.channel.isWritable { resumeReads() }
        }
    }

    // MARK: 5: forward the request body

    private func receivedBody(_ body: ByteBuffer) {
        clientTimeouts.requestBodyProgressed()
        guard let exchange else { return }  // the rest of a request Sluice already answered
        exchange.bytesIn += body.readableBytes
        let limit = exchange.route.maxBodyBytes
        if limit > 0, exchange.bytesIn > limit {
            return fail(exchange, .payloadTooLarge, "request body larger than \(limit) bytes")
        }
        if let connection = exchange.connection {
            connection.write(.body(.byteBuffer(body)))
            exchange.keepForReplay(.body(.byteBuffer(body)))
            exchange.upstreamNeedsFlush = true
        } else {
            exchange.pending.append(.body(.byteBuffer(body)))
        }
    }

    private func receivedEnd(_ trailers: HTTPHeaders?) {
        clientTimeouts.requestBodyFinished()
        guard let exchange else { return }
        exchange.requestEnded = true
        if let connection = exchange.connection {
            connection.write(.end(HeaderRewriting.trailers(trailers)))
            exchange.keepForReplay(.end(HeaderRewriting.trailers(trailers)))
            connection.flush()
            exchange.upstreamNeedsFlush = false
            if !exchange.responseStarted { armHeaderTimer(exchange) }
        } else {
            exchange.pending.append(.end(HeaderRewriting.trailers(trailers)))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let exchange, exchange.upstreamNeedsFlush, let connection = exchange.connection {
            exchange.upstreamNeedsFlush = false
            connection.flush()
        }
        context.fireChannelReadComplete()
    }

    // MARK: 6: the response

    func receivedResponseHead(_ head: HTTPResponseHead, _ exchange: Exchange) {
        exchange.cancelHedge()  // this try answered first
        exchange.status = Int(head.status.code)
        if head.status == .switchingProtocols, exchange.upgrade != nil { return relaySwitchingProtocols(head, exchange) }
        if head.status == .switchingProtocols {
            // Sluice never asked for an upgrade; a backend that switches anyway cannot be relayed.
            exchange.upstreamReusable = false
            return fail(exchange, .badGateway, "upstream \(exchange.backendAddress) switched protocols unasked")
        }
        // A backend that refused an upgrade may still expect one on this connection.
        exchange.upstreamReusable = head.allowsUpstreamReuse && exchange.upgrade == nil
        let now = NIODeadline.now()
        let latency = exchange.tryLatency(at: now)
        exchange.upstreamHeadNanos = latency
        let serverError = exchange.status >= 500
        exchange.cluster.record(serverError ? .serverError : .success, backend: exchange.backendIndex,
                                latencyNanoseconds: latency, now: now.uptimeNanoseconds)
        if serverError, retryStatus(exchange, now: now.uptimeNanoseconds) { return }
        var cacheFields: [(String, String)] = []
        switch cacheResponseHead(head, exchange) {
        case .handled:
            // A 304 that freshened the stored object, or a stale object standing in for a failure.
            if self.exchange === exchange { upstreamTimer?.set(after: exchange.idleTimeout) }
            return
        case .relay(let fields):
            cacheFields = fields
        }
        // An HTTP/1.0 client cannot take chunked framing: a body without a length ends at close.
        if exchange.version == .http1_0, !head.headers.contains(name: "content-length") {
            exchange.clientKeepAlive = false
        }
        var clientHead = HeaderRewriting.clientHead(
            from: head,
            requestVersion: exchange.version,
            keepAlive: exchange.clientKeepAlive,
            policy: exchange.headerPolicy,
            requestID: exchange.requestID,
            limitFields: exchange.limitFields
        )
        if !cacheFields.isEmpty {
            for (name, _) in cacheFields { clientHead.headers.remove(name: name) }
            clientHead.headers.add(contentsOf: cacheFields)
        }
        exchange.responseStarted = true
        context?.write(wrapOutboundOut(.head(clientHead)), promise: nil)
        upstreamTimer?.set(after: exchange.idleTimeout)
        // A HEAD asked as GET whose body will not be stored: the client's answer is complete,
        // and the body is not worth downloading.
        if exchange.suppressClientBody, exchange.cache?.fill == nil {
            exchange.upstreamReusable = false
            receivedResponseEnd(nil, exchange)
        }
    }

    func receivedResponseBody(_ body: ByteBuffer, _ exchange: Exchange) {
        if let cache = exchange.cache {
            if cache.answerAfterEnd != nil { return }  // a 304's (empty) body
            cacheResponseBody(body, exchange)
        }
        if !exchange.waitingOnClient { upstreamTimer?.set(after: exchange.idleTimeout) }
        if exchange.suppressClientBody { return }  // a HEAD asked upstream as GET
        exchange.bytesOut += body.readableBytes
        context?.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
    }

    // MARK: 7: finish

    func receivedResponseEnd(_ trailers: HTTPHeaders?, _ exchange: Exchange) {
        if exchange.switchedProtocols { return startTunnel(exchange) }
        if let cache = exchange.cache {
            if let freshened = cache.answerAfterEnd {
                endUpstream(of: exchange, reusable: exchange.requestEnded && exchange.upstreamReusable)
                resumeReads()
                return serveFreshened(freshened, exchange, cache)
            }
            cacheResponseEnded(exchange)
        }
        endUpstream(of: exchange, reusable: exchange.requestEnded && exchange.upstreamReusable)
        // A response that ended before its request did leaves request bytes we won't frame.
        let keepAlive = exchange.clientKeepAlive && exchange.requestEnded
        record(exchange, status: exchange.status, error: nil)
        resumeReads()
        guard let context else { return }
        closing = !keepAlive || quiescing
        if !closing {
            context.writeAndFlush(wrapOutboundOut(.end(HeaderRewriting.trailers(trailers))), promise: nil)
            responseFinished()
        } else {
            writeLastAndClose(.end(HeaderRewriting.trailers(trailers)), context: context)
        }
    }

    /// Ends the exchange's upstream side, however the exchange ends: timers, the backend's
    /// in-flight slot, and the connection (back to its pool only when `reusable`).
    func endUpstream(of exchange: Exchange, reusable: Bool = false) {
        upstreamTimer?.clear()
        exchange.streamTimer?.cancel()
        exchange.cancelHedge()
        exchange.releaseInFlight()
        if exchange.cache != nil { cacheExchangeEnded(exchange) }
        if let connection = exchange.connection {
            exchange.connection = nil
            if reusable { exchange.pool.release(connection) } else { connection.close() }
        }
        self.exchange = nil
    }
}

/// ProxyHandler's upstream timeouts: the second deadline of a DeadlineTimer.
struct UpstreamDeadline {
    let timer: DeadlineTimer
    func set(after amount: TimeAmount) { timer.setSecond(after: amount) }
    func clear() { timer.clearSecond() }
}
