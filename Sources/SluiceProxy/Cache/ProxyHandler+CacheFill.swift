import Atomics
import Logging
import NIOCore
import NIOHTTP1
import SluiceCache
import SluiceConfig

// The response side of a cached route: what the origin's answer does to the store (store it,
// freshen a stored object with a 304, fall back on a stale one, invalidate after an unsafe
// method), and the Cache-Status it goes out with.
extension ProxyHandler {
    /// The upstream head for a forward the cache cares about: its validators in place of the
    /// client's, and a HEAD asked as GET so that the answer can fill the store (nginx's
    /// `proxy_cache_convert_head`); the client still gets no body.
    func prepareUpstream(_ exchange: Exchange, _ request: CacheRequest) {
        // The client's own validators would get a 304 the store cannot use (nginx drops them
        // too); a range passes through as asked.
        if !request.fields.contains("Range") {
            for name in ["if-none-match", "if-modified-since"] { exchange.upstreamHead.headers.remove(name: name) }
        }
        for field in request.conditional { exchange.upstreamHead.headers.add(name: field.name, value: field.value) }
        if request.method == .HEAD, !request.fields.contains("Range") {
            exchange.upstreamHead.method = .GET
            exchange.suppressClientBody = true
        }
    }

    /// What the origin's head means for the client.
    enum HeadVerdict {
        /// Not relayed: a 304 that freshened the stored object, a stale object standing in for
        /// a failure, or a fetch started again.
        case handled
        /// Relayed, with these fields added (Cache-Status, X-Cache).
        case relay([(String, String)])
    }

    func cacheResponseHead(_ head: HTTPResponseHead, _ exchange: Exchange) -> HeadVerdict {
        let cache = runtime.cache
        let status = Int(head.status.code)
        guard let request = exchange.cache else {
            invalidateAfterUnsafe(head, exchange)
            guard exchange.route.cache != nil else { return .relay([]) }
            // A cached route's request the cache did not handle says why (RFC 9211 §2.2).
            let reason: ForwardReason = exchange.method == .GET || exchange.method == .HEAD ? .bypass : .method
            var fields = [("Cache-Status", CacheStatus(forward: reason, forwardStatus: status).appended(to: head.headers.first(name: "cache-status")))]
            if exchange.generation.cache.config.xCache { fields.append(("X-Cache", "MISS")) }
            return .relay(fields)
        }
        let now = cache.clock.now()
        let settings = request.admitted.generation.cache
        let fields = HeaderFields(head.headers)
        if status == 304, let stale = request.stale, !request.conditional.isEmpty {
            guard Revalidation.isNotModifiedApplicable(notModified: fields, stored: stale.stored.headers) else {
                // §4.3.4: it does not select the stored object (replicas with other ETags, say):
                // ask again without conditions, on a connection of its own.
                request.conditional = HeaderFields()
                for name in ["if-none-match", "if-modified-since"] { exchange.upstreamHead.headers.remove(name: name) }
                abandonTry(exchange)
                exchange.rewindForRetry(to: exchange.backendIndex)
                startTry(exchange)
                return .handled
            }
            let freshened = stale.replacing(stored: stale.stored.freshened(by: fields, requestTime: request.requestTime,
                                                                            responseTime: now, policy: settings.policy))
            cache.update(freshened, replacing: stale)
            cache.store.counters.revalidated.wrappingIncrement(ordering: .relaxed)
            request.answerAfterEnd = freshened
            return .handled
        }
        if ServeDecision.isOriginFailure(status: status), serveStaleOnError(exchange, upstreamStatus: status) { return .handled }
        var cacheStatus = CacheStatus(forward: request.reason, forwardStatus: status, collapsed: request.collapsed)
        switch Self.storability(head, fields, request, exchange.upstreamHead.method, now: now) {
        case .storable:
            request.fill = CacheFill(status: status, headers: Self.fieldsToStore(fields, exchange), responseTime: now,
                                     limit: settings.config.maxObjectSize,
                                     body: context?.channel.allocator.buffer(capacity: Self.lengthHint(head)) ?? ByteBuffer())
            cacheStatus.stored = true
        case .notStorable(let reason):
            cacheStatus.detail = reason
        }
        request.status = cacheStatus
        exchange.cacheResult = "miss"
        return .relay(cacheFields(cacheStatus, upstream: head.headers.first(name: "cache-status"), hit: false, request: request))
    }

    func cacheResponseBody(_ body: ByteBuffer, _ exchange: Exchange) {
        guard let request = exchange.cache, request.fill != nil else { return }
        if !request.fill!.append(body) { request.fill = nil }
    }

    /// The response ended whole: the kept body goes into the store, and collapsed waiters
    /// are told. False when the response ended only now a freshened object is to be served.
    func cacheResponseEnded(_ exchange: Exchange) {
        guard let request = exchange.cache else { return }
        var stored = false
        if let fill = request.fill {
            request.fill = nil
            let settings = request.admitted.generation.cache
            let object = CachedObject(
                primary: request.key.string, uri: request.key.uri,
                stored: StoredResponse(status: fill.status, headers: fill.headers, requestTime: request.requestTime,
                                       responseTime: fill.responseTime, policy: settings.policy),
                vary: VaryKey(response: fill.headers, request: request.fields) ?? VaryKey(fieldNames: [], request: request.fields),
                body: fill.body, tags: CachedObject.tags(in: fill.headers, field: settings.config.tagHeader))
            stored = runtime.cache.insert(object)
        }
        land(request, stored: stored)
    }

    /// However the exchange ends: a fetch others wait on lands (not stored, unless it was).
    func cacheExchangeEnded(_ exchange: Exchange) {
        guard let request = exchange.cache else { return }
        request.fill = nil
        land(request, stored: false)
    }

    /// No backend can take the request: waiters are let go, and a stale object may stand in
    /// (the origin counts as failing). True when it did.
    func cacheCannotForward(_ request: CacheRequest) -> Bool {
        land(request, stored: false)
        guard let stale = request.stale else { return false }
        let now = runtime.cache.clock.now()
        guard case .staleIfError(let reuse) = ServeDecision.decide(stored: stale.stored, request: request.fields, now: now,
                                                                   originFailing: true,
                                                                   policy: request.admitted.generation.cache.policy) else { return false }
        runtime.cache.store.counters.staleServed.wrappingIncrement(ordering: .relaxed)
        serveCached(stale, reuse: reuse, to: request, status: CacheStatus(forward: .stale, timeToLive: reuse.timeToLive),
                    keepAlive: request.admitted.keepAlive, result: "stale-if-error")
        return true
    }

    private func land(_ request: CacheRequest, stored: Bool) {
        guard request.leads else { return }
        request.leads = false
        runtime.cache.flights.land(request.key.string, stored: stored)
    }

    /// RFC 5861 §4 / RFC 9111 §4.2.4: the origin failed (`upstreamStatus` nil: no answer at
    /// all), and the stale object may stand in for it. Ends the exchange when it does.
    func serveStaleOnError(_ exchange: Exchange, upstreamStatus: Int?) -> Bool {
        guard let request = exchange.cache, let stale = request.stale, !exchange.responseStarted else { return false }
        let now = runtime.cache.clock.now()
        let policy = request.admitted.generation.cache.policy
        guard case .staleIfError(let reuse) = ServeDecision.decide(stored: stale.stored, request: request.fields, now: now,
                                                                   originFailing: true, policy: policy) else { return false }
        runtime.cache.store.counters.staleServed.wrappingIncrement(ordering: .relaxed)
        runtime.logger.info("serving stale: the origin failed", metadata: [
            "request_id": "\(exchange.requestID)", "upstream": "\(exchange.backendAddress)",
            "status": "\(upstreamStatus.map(String.init) ?? "none")",
        ])
        let keepAlive = exchange.clientKeepAlive && exchange.requestEnded
        endUpstream(of: exchange)
        resumeReads()
        let status = CacheStatus(forward: .stale, forwardStatus: upstreamStatus, timeToLive: reuse.timeToLive, collapsed: request.collapsed)
        serveCached(stale, reuse: reuse, to: request, status: status, keepAlive: keepAlive, exchange: exchange, result: "stale-if-error")
        return true
    }

    /// After a 304 freshened the stored object, the client gets that object.
    func serveFreshened(_ object: CachedObject, _ exchange: Exchange, _ request: CacheRequest) {
        let now = runtime.cache.clock.now()
        let reuse = ServeDecision.Reuse(age: object.stored.age(at: now), timeToLive: object.stored.timeToLive(at: now))
        let status = CacheStatus(forward: request.reason, forwardStatus: 304, timeToLive: reuse.timeToLive, collapsed: request.collapsed)
        serveCached(object, reuse: reuse, to: request, status: status, keepAlive: exchange.clientKeepAlive && exchange.requestEnded,
                    exchange: exchange, result: "revalidated")
    }

    /// RFC 9111 §3, and what Sluice adds: no Vary *, nothing over max_object_size, nothing
    /// that sets a cookie (one user's session must not reach another: Varnish and nginx
    /// refuse these too), nothing stale on arrival without a validator.
    static func storability(_ head: HTTPResponseHead, _ fields: HeaderFields, _ request: CacheRequest,
                            _ upstreamMethod: HTTPMethod, now: Int64) -> StoreVerdict {
        // A range's 206 and a HEAD asked as HEAD carry no whole body to keep.
        guard upstreamMethod == .GET, !request.fields.contains("Range") else { return .notStorable("range") }
        let settings = request.admitted.generation.cache
        switch Storability.evaluate(method: "GET", request: request.fields, status: Int(head.status.code), response: fields,
                                    policy: settings.policy) {
        case .notStorable(let reason): return .notStorable(reason.rawValue)
        case .storable: break
        }
        if fields.listMembers("Vary").contains("*") { return .notStorable("vary-star") }
        if fields.contains("Set-Cookie") { return .notStorable("set-cookie") }
        // Stale on arrival and nothing to revalidate with: storing it could never save a fetch.
        let lifetime = Freshness.lifetime(status: Int(head.status.code), response: fields, responseTime: now,
                                          policy: settings.policy)
        if lifetime.seconds <= 0, !fields.contains("ETag"), !fields.contains("Last-Modified") {
            return .notStorable("no-freshness")
        }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > settings.config.maxObjectSize {
            return .notStorable("too-large")
        }
        return .storable
    }

    enum StoreVerdict {
        case storable
        case notStorable(String)
    }

    /// The origin's fields as the store keeps them: without this request's id, which a later
    /// hit must not repeat.
    static func fieldsToStore(_ fields: HeaderFields, _ exchange: Exchange) -> HeaderFields {
        fields.removing([exchange.headerPolicy.requestID.lowercased()])
    }

    static func lengthHint(_ head: HTTPResponseHead) -> Int {
        min(head.headers.first(name: "content-length").flatMap(Int.init) ?? 16 * 1024, 1 << 20)
    }

    /// RFC 9111 §4.4: a non-error answer to an unsafe method invalidates the target URI and
    /// same-origin Location and Content-Location.
    /// Every route does this, cached or not: a POST route apart from the cached GET one is
    /// common. The key rule is the route's when it caches, else the default (query as sent).
    func invalidateAfterUnsafe(_ head: HTTPResponseHead, _ exchange: Exchange) {
        guard !Invalidation.safeMethods.contains(exchange.method.rawValue), exchange.uri.hasPrefix("/"),
              runtime.cache.store.objectCount > 0 else { return }
        let rule = exchange.generation.cache.rules[exchange.route.index] ?? CacheKeyRule()
        guard let target = TargetURI(scheme: peer.scheme, authority: exchange.upstreamHead.headers.first(name: "host") ?? "",
                                     requestTarget: exchange.uri) else { return }
        let uris = Invalidation.invalidatedURIs(method: exchange.method.rawValue, target: target, status: Int(head.status.code),
                                                response: HeaderFields(head.headers))
        var removed = 0
        for uri in uris { removed += runtime.cache.remove(uri: CacheKey.uri(uri, rule: rule)) }
        if removed > 0 { runtime.cache.store.counters.invalidated.wrappingIncrement(by: removed, ordering: .relaxed) }
    }
}
