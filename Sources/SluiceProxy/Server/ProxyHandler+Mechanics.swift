import Logging
import NIOCore
import NIOHTTP1
import SluiceBalancing
import SluiceConfig

/// What `ProxyHandler` needs to answer a request itself, captured from its head.
struct LocalAnswer {
    var method: HTTPMethod
    var uri: String
    var version: HTTPVersion
    var requestID: String
    /// The header the request id travels in (`headers.request_id`).
    var idHeader: String
    var trace: TraceContext
    var started = NIODeadline.now()
    /// The configuration the request started on: its access log and objectives.
    let generation: ProxyGeneration

    init(head: HTTPRequestHead, requestID: String, idHeader: String, trace: TraceContext, generation: ProxyGeneration) {
        self.generation = generation
        method = head.method
        uri = head.uri
        version = head.version
        self.requestID = requestID
        self.idHeader = idHeader
        self.trace = trace
    }
}

// The mechanics under the phases: upstream events, failures and local answers, backpressure,
// timers, and the client connection's own events.
extension ProxyHandler: UpstreamDelegate {
    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard let exchange else { return }
        switch part {
        case .head(let head): receivedResponseHead(head, exchange)
        case .body(let body): receivedResponseBody(body, exchange)
        case .end(let trailers): receivedResponseEnd(trailers, exchange)
        }
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeReads() } else { pauseReads() }
    }

    func upstreamFailed(_ error: any Error) {
        guard let exchange else { return }
        if error is HTTPParserError {
            backendFailed(exchange, .serverError, .badGateway, "invalid response from upstream \(exchange.backendAddress)",
                          detail: "\(error)", retryable: false)
        } else if !retryOnFreshConnection(exchange) {
            backendFailed(exchange, .reset, .badGateway, "upstream \(exchange.backendAddress) failed", detail: "\(error)")
        }
    }

    func upstreamClosed() {
        guard let exchange else { return }
        if retryOnFreshConnection(exchange) { return }
        backendFailed(exchange, .reset, .badGateway, "upstream \(exchange.backendAddress) closed the connection")
    }

    // MARK: failures and local answers

    /// Ends an exchange that cannot complete normally: the client gets `status` with a short
    /// body naming the cause if no response byte has gone out yet, otherwise its connection is
    /// closed, which is the only way left to tell it the response is incomplete.
    func fail(_ exchange: Exchange, _ status: HTTPResponseStatus, _ reason: String, detail: String? = nil) {
        endUpstream(of: exchange)
        resumeReads()
        var metadata: Logger.Metadata = [
            "request_id": "\(exchange.requestID)", "upstream": "\(exchange.backendAddress)", "route": "\(exchange.route.name)",
        ]
        if let detail { metadata["detail"] = "\(detail)" }
        runtime.logger.warning("\(reason)", metadata: metadata)
        if exchange.responseStarted {
            record(exchange, status: exchange.status, error: reason)
            closeNow()
            return
        }
        record(exchange, status: Int(status.code), error: reason)
        writeAnswer(status, reason, version: exchange.version, requestID: exchange.requestID, idHeader: exchange.headerPolicy.requestID,
                    close: !(exchange.requestEnded && exchange.clientKeepAlive))
    }

    /// `fields` go on the answer (a rate limit's Retry-After and RateLimit fields); `logReason`
    /// replaces `reason` in the access log when the body is not the reason.
    func answer(_ local: LocalAnswer, _ status: HTTPResponseStatus, _ reason: String, close: Bool, route: String? = nil,
                retryAfter: Int = 1, fields: [(String, String)] = [], logReason: String? = nil) {
        recordLocal(local, status: Int(status.code), route: route, bytesOut: 0, error: logReason ?? reason)
        writeAnswer(status, reason, version: local.version, requestID: local.requestID, idHeader: local.idHeader, close: close,
                    retryAfter: retryAfter, fields: fields)
    }

    /// A response Sluice writes itself: `reason` as a one-line body.
    func writeAnswer(_ status: HTTPResponseStatus, _ reason: String, version: HTTPVersion, requestID: String, idHeader: String, close: Bool,
                     retryAfter: Int = 1, fields: [(String, String)] = []) {
        guard let context else { return }
        let close = close || quiescing
        closing = closing || close
        let text = reason.isEmpty ? "" : reason + "\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        headers.add(name: idHeader, value: requestID)
        headers.add(contentsOf: fields)
        if status == .serviceUnavailable, !headers.contains(name: "retry-after") {
            headers.add(name: "Retry-After", value: String(retryAfter))
        }
        if close { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version == .http1_0 ? .http1_0 : .http1_1, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        if close {
            writeLastAndClose(.end(nil), context: context)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            responseFinished()
        }
    }

    /// Metrics, objectives and the access log for a request Sluice answered itself (an error,
    /// a refusal, a cache hit).
    func recordLocal(_ local: LocalAnswer, status: Int, route: String?, bytesOut: Int, error: String? = nil, cache: String? = nil) {
        let duration = account(status: status, started: local.started, route: route, cluster: nil, upstreamNanos: nil,
                               bytesIn: 0, bytesOut: bytesOut, retries: 0, generation: local.generation)
        let accessLog = local.generation.accessLog
        guard accessLog.config.enabled else { return }
        accessLog.record(AccessLogEntry(
            client: peer.ip, method: local.method.rawValue, path: local.uri, status: status,
            bytesIn: 0, bytesOut: bytesOut, durationNanos: duration, upstream: nil,
            upstreamNanos: nil, requestID: local.requestID, traceID: local.trace.traceID, route: route, error: error, cache: cache
        ))
    }

    func record(_ exchange: Exchange, status: Int, error: String?) {
        let duration = account(status: status, started: exchange.started, route: exchange.route.name, cluster: exchange.route.cluster,
                               upstreamNanos: exchange.upstreamHeadNanos, bytesIn: exchange.bytesIn, bytesOut: exchange.bytesOut,
                               retries: max(0, exchange.tries - 1), generation: exchange.generation)
        let accessLog = exchange.generation.accessLog
        guard accessLog.config.enabled else { return }
        accessLog.record(AccessLogEntry(
            client: peer.ip, method: exchange.method.rawValue, path: exchange.uri, status: status,
            bytesIn: exchange.bytesIn, bytesOut: exchange.bytesOut, durationNanos: duration,
            upstream: exchange.backendAddress, upstreamNanos: exchange.upstreamHeadNanos,
            requestID: exchange.requestID, traceID: exchange.traceID, route: exchange.route.name, error: error,
            cache: exchange.cacheResult ?? (exchange.route.cache != nil ? "bypass" : nil)
        ))
    }

    /// What every finished request feeds, proxied or answered here: metrics and objectives,
    /// on one clock read. Returns the duration for the access log.
    private func account(status: Int, started: NIODeadline, route: String?, cluster: String?, upstreamNanos: UInt64?,
                         bytesIn: Int, bytesOut: Int, retries: Int, generation: ProxyGeneration) -> UInt64 {
        let now = NIODeadline.now()
        let duration = UInt64(max(0, (now - started).nanoseconds))
        runtime.metrics.request(route: route, cluster: cluster, status: status, durationNanos: duration, upstreamNanos: upstreamNanos,
                                bytesIn: bytesIn, bytesOut: bytesOut, retries: retries)
        let slo = generation.slo
        if !slo.isEmpty { slo.record(route: route, status: status, durationNanos: duration, now: now.uptimeNanoseconds) }
        return duration
    }

    // MARK: timers

    func armHeaderTimer(_ exchange: Exchange) {
        // The exchange may have failed (and another started) during the write that precedes this.
        guard self.exchange === exchange else { return }
        upstreamTimer?.set(after: exchange.headerTimeout)
        scheduleHedge(exchange)
    }

    /// `client_body` ran out: the request body stopped arriving.
    func clientBodyTimedOut() {
        if let exchange {
            exchange.clientKeepAlive = false
            fail(exchange, .requestTimeout, "client body timeout")
        } else {
            closeNow()
        }
    }

    func upstreamTimerExpired() {
        guard let exchange else { return }
        if exchange.waitingOnClient {
            fail(exchange, .requestTimeout, "client stopped reading the response (client_send)")
        } else if exchange.responseStarted {
            backendFailed(exchange, .timeout, .gatewayTimeout,
                          "upstream idle timeout (\(exchange.route.upstreamIdle)) from \(exchange.backendAddress)")
        } else {
            backendFailed(exchange, .timeout, .gatewayTimeout,
                          "upstream response header timeout (\(exchange.headerLimit)) from \(exchange.backendAddress)")
        }
    }

    // MARK: backpressure

    func pauseReads() { readsPaused = true }

    func resumeReads() {
        guard readsPaused else { return }
        readsPaused = false
        if readPending, queued.isEmpty, let context {
            readPending = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        // Also hold reads while pipelined requests wait: one read's worth is the bound.
        if readsPaused || (!queued.isEmpty && !closing) || holdingAfterLastRequest {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let exchange, let connection = exchange.connection {
            let writable = context.channel.isWritable
            connection.handler.setReadsPaused(!writable)
            // Time the client makes the backend wait is not the backend being idle; it is
            // bounded on its own (slow-read defence) by `client_send`.
            if exchange.responseStarted {
                exchange.waitingOnClient = !writable
                upstreamTimer?.set(after: writable ? exchange.idleTimeout : exchange.sendTimeout)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: the client connection

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange {
            endUpstream(of: exchange)
            // 499 as nginx logs it: the client went away before the response was complete.
            record(exchange, status: 499, error: "client closed the connection")
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { return quiesce(context) }
        if let retired = event as? RoutesRetired { return routesRetired(retired, context: context) }
        if let reconnect = event as? ReconnectRequested { return reconnectRequested(reconnect, context: context) }
        guard event is DrainTimedOut else { return context.fireUserInboundEventTriggered(event) }
        forceFullClose = true
        if let exchange {
            exchange.clientKeepAlive = false
            fail(exchange, .serviceUnavailable, "drain timeout: Sluice is shutting down")
        } else {
            closeNow()
        }
    }

    /// A reload changed what this connection took at accept: the next response ends it; with new
    /// access lists or trusted proxies, the peer is judged again now.
    private func reconnectRequested(_ event: ReconnectRequested, context: ChannelHandlerContext) {
        reconnectRequested = true
        if let exchange, !exchange.responseStarted { exchange.clientKeepAlive = false }
        guard let connectionGuard = event.connectionGuard else { return }
        peer.isTrusted = peer.address.map { address in event.trustedProxies.contains { $0.contains(address) } } ?? false
        if let refusal = connectionGuard.accessRefusal(address: peer.address) {
            runtime.logger.info("connection closed by reload", metadata: ["client": "\(peer.ip)", "reason": "\(refusal)"])
            // As a drain: an idle connection closes now, an answer in progress finishes, then close.
            quiesce(context)
        }
    }

    /// A reload removed the route of the request in progress: it may finish within
    /// `reload.drain_timeout` (a long poll, a stream), else it is ended as a drain ends it.
    private func routesRetired(_ event: RoutesRetired, context: ChannelHandlerContext) {
        guard let exchange, exchange.generation.snapshot.generation < event.generation,
              event.routes.contains(exchange.route.name) else { return }
        context.eventLoop.assumeIsolated().scheduleTask(in: event.drainTimeout) { [weak self] in
            guard let self, self.exchange === exchange else { return }
            self.forceFullClose = true
            exchange.clientKeepAlive = false
            self.fail(exchange, .serviceUnavailable, "route \(exchange.route.name) was removed by a reload; reload.drain_timeout passed")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let decodeError = error is HTTPParserError || error is ByteToMessageDecoderError
        // Once the parser has failed, or Sluice is closing, more bad bytes change nothing:
        // the answer already decided goes out, and the closing timer bounds the connection.
        if decodeError, closing || parseFailed { return }
        guard let parserError = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        parseFailed = true
        clientTimeouts.discardInput()
        if !queued.isEmpty || (responsePending && !currentRequestOpen) {
            // The bad bytes follow a request still being answered: that answer goes first.
            queued.append(.parseError(parserError))
            return
        }
        refuseMalformed(parserError)
    }

    func refuseMalformed(_ parserError: HTTPParserError) {
        let status: HTTPResponseStatus = parserError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
        let reason = parserError == .headerOverflow ? "request header fields too large" : "malformed request"
        if let exchange {
            if !exchange.responseStarted { exchange.requestEnded = false }
            fail(exchange, status, reason)
        } else {
            runtime.logger.info("\(reason)", metadata: ["client": "\(peer.ip)", "detail": "\(parserError)"])
            writeAnswer(status, reason, version: .http1_1, requestID: RequestID.generate(using: &loop.random),
                        idHeader: runtime.snapshot.config.headers.requestID, close: true)
        }
    }
}
