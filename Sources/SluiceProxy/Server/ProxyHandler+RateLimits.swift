import NIOCore
import NIOHTTP1
import SluiceConfig

/// A request head that passed validation and routing, waiting on its rate limits.
struct AdmittedHead {
    let head: HTTPRequestHead
    let local: LocalAnswer
    let framing: BodyFraming
    let keepAlive: Bool
    let closeLocal: Bool
    let route: ResolvedRoute
    let generation: ProxyGeneration
    /// The protocol a WebSocket handshake asks for, when the route relays them; worked out once.
    let upgrade: String?
    var snapshot: Snapshot { generation.snapshot }
}

// Phase 2½: the route's rate limits, between routing and picking a backend. A local policy
// decides at once; a shared (Redis) one or a token check may take until `store_timeout`,
// while the request's later parts queue as pipelined ones do.
extension ProxyHandler {
    func checkRateLimits(_ admitted: AdmittedHead, context: ChannelHandlerContext) {
        let policy = admitted.snapshot.config.headers
        let clientIP = HashKey.clientIP(head: admitted.head, peer: peer, trusted: policy.trustedProxies)
        // Without trusted proxies the client is the peer, whose address was parsed at accept.
        let address = clientIP == peer.ip ? peer.address : CIDR.parseAddress(clientIP)
        let request = LimitRequest(head: admitted.head, clientIP: clientIP, clientAddress: address,
                                   peerTrusted: peer.isTrusted, route: admitted.route.name)
        let now = NIODeadline.now().uptimeNanoseconds
        switch admitted.generation.limiter.check(request: request, now: now, eventLoop: context.eventLoop) {
        case .done(let admission):
            admit(admission, admitted)
        case .pending(let decided):
            admitting = true
            pauseReads()
            decided.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                self.admitting = false
                // A client that left while its request waited is not forwarded (the handler
                // may still be in the pipeline for a moment after the channel went inactive).
                guard !self.closing, let context = self.context, context.channel.isActive else { return }
                // The limiter's futures never fail (store errors become decisions); allow if one did.
                self.admit((try? result.get()) ?? .allowed(fields: []), admitted)
                if self.exchange == nil, !self.admitting { self.resumeReads() }
                self.serveQueued()
                // Body parts that queued meanwhile went to the upstream unflushed.
                if let exchange = self.exchange, exchange.upstreamNeedsFlush, let connection = exchange.connection {
                    exchange.upstreamNeedsFlush = false
                    connection.flush()
                }
            }
        }
    }

    private func admit(_ admission: Admission, _ admitted: AdmittedHead) {
        switch admission {
        case .allowed(let fields):
            forward(admitted, limitFields: fields)
        case .refused(let refusal):
            answer(admitted.local, refusal.status, refusal.body, close: admitted.closeLocal, route: admitted.route.name,
                   fields: refusal.fields, logReason: refusal.logReason)
        }
    }
}
