import Atomics
import Logging
import NIOCore
import NIOHTTP1
import SluiceCache
import SluiceConfig

/// What the cache phase decided for a request.
enum CacheLookup {
    /// Answered from the store, or waiting on another request's fetch.
    case handled
    /// Go upstream; with a CacheRequest when the response concerns the cache.
    case forward(CacheRequest?)
}

// Phase 2¾, for routes with a `cache` block: after the rate limits (a hit is still a request
// the client makes), before a backend is picked. RFC 9111 decides through SluiceCache; this
// file does the I/O around its answers.
extension ProxyHandler {
    func lookUpCache(_ admitted: AdmittedHead, limitFields: [(String, String)], mayCollapse: Bool = true,
                     collapsed: Bool = false, diskChecked: Bool = false) -> CacheLookup {
        let head = admitted.head
        let settings = admitted.generation.cache
        // Origin-form only (receivedHead has turned absolute-form into origin-form and Host,
        // so the key's host is the one the router used).
        guard head.method == .GET || head.method == .HEAD, admitted.framing == .none, head.uri.hasPrefix("/"),
              let rule = settings.rules[admitted.route.index],
              let target = TargetURI(scheme: peer.scheme, authority: head.headers.first(name: "host") ?? "", requestTarget: head.uri)
        else { return .forward(nil) }
        let cache = runtime.cache
        let fields = HeaderFields(head.headers)
        let key = CacheKey(target: target, request: fields, rule: rule)
        let now = cache.clock.now()
        let request = CacheRequest(admitted: admitted, limitFields: limitFields, key: key, target: target, fields: fields,
                                   requestTime: now)
        request.collapsed = collapsed
        let variants = cache.store.variants(of: key.string)
        guard let object = variants.first(where: { $0.vary.matches(fields) }) else {
            if !diskChecked, let disk = cache.disk, disk.knows(key.string), let context {
                readFromDisk(disk, request, mayCollapse: mayCollapse, context: context)
                return .handled
            }
            request.reason = variants.isEmpty ? .uriMiss : .varyMiss
            return miss(request, mayCollapse: mayCollapse)
        }
        if head.method == .GET, fields.contains("Range"), case .passThrough = rangeAnswer(object, request, now: now) {
            return .forward(nil)  // several ranges: the origin answers them
        }
        switch ServeDecision.decide(stored: object.stored, request: fields, now: now, policy: settings.policy) {
        case .fresh(let reuse), .staleAllowedByRequest(let reuse):
            cache.store.touch(object)
            cache.store.counters.hits.wrappingIncrement(ordering: .relaxed)
            let status = CacheStatus(hit: true, timeToLive: reuse.timeToLive, collapsed: collapsed)
            serveCached(object, reuse: reuse, to: request, status: status, keepAlive: admitted.keepAlive)
            return .handled
        case .staleWhileRevalidate(let reuse), .staleIfError(let reuse):
            cache.store.touch(object)
            cache.store.counters.staleServed.wrappingIncrement(ordering: .relaxed)
            serveCached(object, reuse: reuse, to: request, status: CacheStatus(hit: true, timeToLive: reuse.timeToLive),
                        keepAlive: admitted.keepAlive)
            // RFC 5861 §3: one background revalidation per object, however many stale hits.
            if cache.flights.lead(key.string) { refreshInBackground(object, request) }
            return .handled
        case .revalidate(let reason, let conditional):
            request.stale = object
            request.conditional = conditional
            request.reason = reason
            return .forward(request)
        case .mustFetch(let reason):
            request.stale = object
            request.reason = reason
            return .forward(request)
        case .onlyIfCachedMiss:
            onlyIfCachedMiss(request)
            return .handled
        }
    }

    /// Nothing stored matches: `only-if-cached` gets 504 (RFC 9111 §5.2.1.7); otherwise one
    /// request per key goes upstream while the others wait for it.
    private func miss(_ request: CacheRequest, mayCollapse: Bool) -> CacheLookup {
        let cache = runtime.cache
        cache.store.counters.misses.wrappingIncrement(ordering: .relaxed)
        if CacheControl(request.fields).onlyIfCached {
            onlyIfCachedMiss(request)
            return .handled
        }
        // A range is passed on as asked: its 206 is not stored, so nothing is collapsed on it.
        guard mayCollapse, !request.fields.contains("Range") else { return .forward(request) }
        let key = request.key.string
        if cache.flights.lead(key) {
            request.leads = true
            return .forward(request)
        }
        guard let context else { return .handled }
        let timeout = TimeAmount(request.admitted.generation.cache.config.lockTimeout)
        let waiting = cache.flights.wait(for: key, on: context.eventLoop, timeout: timeout) { [weak self] outcome in
            self?.collapsedFetchEnded(outcome, request)
        }
        guard waiting else {
            // The flight landed between the two looks: look again, as a waiter would.
            return lookUpCache(request.admitted, limitFields: request.limitFields, mayCollapse: false)
        }
        cache.store.counters.collapsed.wrappingIncrement(ordering: .relaxed)
        // Later pipelined parts queue meanwhile, as behind a pending rate-limit decision.
        admitting = true
        pauseReads()
        return .handled
    }

    /// The memory tier missed and the disk knows the key: its variants are read on the disk's
    /// pool (later pipelined parts queue meanwhile), promoted to memory, and looked up again.
    private func readFromDisk(_ disk: DiskTier, _ request: CacheRequest, mayCollapse: Bool, context: ChannelHandlerContext) {
        admitting = true
        pauseReads()
        let cache = runtime.cache
        disk.read(request.key.string, on: context.eventLoop, policy: request.admitted.generation.cache.policy)
            .assumeIsolated().whenComplete { result in
                let objects = (try? result.get()) ?? []
                for object in objects { cache.store.insert(object, ifAbsent: true) }
                cache.store.counters.diskReads.wrappingIncrement(by: objects.count, ordering: .relaxed)
                self.admitting = false
                guard !self.closing, let context = self.context, context.channel.isActive else { return }
                let lookup = self.lookUpCache(request.admitted, limitFields: request.limitFields, mayCollapse: mayCollapse,
                                              collapsed: request.collapsed, diskChecked: true)
                if case .forward(let forwarded) = lookup {
                    self.forwardUpstream(request.admitted, limitFields: request.limitFields, cache: forwarded)
                }
                if self.exchange == nil, !self.admitting { self.resumeReads() }
                self.serveQueued()
            }
    }

    private func collapsedFetchEnded(_ outcome: CacheFlights.Outcome, _ request: CacheRequest) {
        admitting = false
        guard !closing, let context, context.channel.isActive else { return }
        let lookup: CacheLookup
        switch outcome {
        case .stored: lookup = lookUpCache(request.admitted, limitFields: request.limitFields, mayCollapse: false, collapsed: true)
        case .notStored, .timedOut: lookup = .forward(request)
        }
        if case .forward(let forwarded) = lookup {
            forwarded?.collapsed = true
            forwardUpstream(request.admitted, limitFields: request.limitFields, cache: forwarded)
        }
        if exchange == nil, !admitting { resumeReads() }
        serveQueued()
    }

    private func onlyIfCachedMiss(_ request: CacheRequest) {
        let status = CacheStatus(forward: .miss, detail: "only-if-cached")
        answer(request.admitted.local, .gatewayTimeout, "not in cache (only-if-cached)", close: request.admitted.closeLocal,
               route: request.admitted.route.name, fields: [("Cache-Status", status.fieldValue)] + request.limitFields)
    }

    /// `PURGE` (Varnish's, and nginx's cache_purge): every variant of the target URL goes, for
    /// peers in `cache.purge_allow` only.
    func purge(_ head: HTTPRequestHead, _ local: LocalAnswer, route: ResolvedRoute, close: Bool) {
        let allowed = local.generation.snapshot.config.cache.purgeAllow
        guard let address = peer.address, allowed.contains(where: { $0.contains(address) }) else {
            return answer(local, .forbidden, "PURGE is not allowed from this address", close: close, route: route.name)
        }
        guard let rule = local.generation.cache.rules[route.index], head.uri.hasPrefix("/"),
              let target = TargetURI(scheme: peer.scheme, authority: head.headers.first(name: "host") ?? "", requestTarget: head.uri)
        else { return answer(local, .notFound, "route \(route.name) does not cache", close: close, route: route.name) }
        let url = CacheKey.uri(target, rule: rule)
        let purged = runtime.purgeEverywhere(.url(url))
        runtime.logger.notice("cache purged", metadata: ["url": "\(url)", "purged": "\(purged)"])
        answer(local, .ok, "purged \(purged)", close: close, route: route.name)
    }

    /// RFC 9110 §14 for a GET with Range: a single range of a complete stored 200.
    func rangeAnswer(_ object: CachedObject, _ request: CacheRequest, now: Int64) -> RangeAnswer {
        ByteRange.answer(method: request.method.rawValue, request: request.fields, storedStatus: object.stored.status,
                         storedHeaders: object.stored.headers, length: object.body.readableBytes, now: now)
    }
}
