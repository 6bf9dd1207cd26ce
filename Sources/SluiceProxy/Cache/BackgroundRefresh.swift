import Atomics
import Logging
import NIOCore
import NIOHTTP1
import SluiceCache
import SluiceConfig

// stale-while-revalidate (RFC 5861 §3): the client already has the stale object; one request
// per object goes upstream on its own, conditional when the object has validators, and its
// answer freshens or replaces what is stored.
extension ProxyHandler {
    func refreshInBackground(_ object: CachedObject, _ request: CacheRequest) {
        let admitted = request.admitted
        let key = request.key.string
        guard let cluster = loop.cluster(named: admitted.route.cluster, in: admitted.snapshot, latest: runtime.generation),
              let index = cluster.pick(hashKey: nil, excluding: [], now: NIODeadline.now().uptimeNanoseconds, random: &loop.random)
        else { return runtime.cache.flights.land(key, stored: false) }
        let policy = admitted.snapshot.config.headers
        var head = HeaderRewriting.upstreamHead(from: admitted.head, framing: .none, peer: peer, policy: policy,
                                                requestID: RequestID.generate(using: &loop.random),
                                                backendAddress: cluster.addresses[index], trace: admitted.local.trace)
        head.method = .GET
        for name in ["if-none-match", "if-modified-since", "range", "if-range"] { head.headers.remove(name: name) }
        for field in Revalidation.conditionalFields(for: object.stored.headers) { head.headers.add(name: field.name, value: field.value) }
        let refresh = BackgroundRefresh(object: object, request: request, cache: runtime.cache, head: head,
                                        timeout: TimeAmount(admitted.route.upstreamHeader), logger: runtime.logger)
        refresh.start(pool: cluster.pools[index], connectTimeout: TimeAmount(admitted.route.upstreamConnect))
    }
}

/// One background revalidation: its own upstream exchange, which no client waits on. It keeps
/// itself alive until the response ends or fails, then lands the object's flight.
final class BackgroundRefresh: UpstreamDelegate {
    private let object: CachedObject
    private let request: CacheRequest
    private let cache: HTTPCache
    private let head: HTTPRequestHead
    private let timeout: TimeAmount
    private let logger: Logger
    private var connection: UpstreamConnection?
    private var pool: BackendPool?
    private var fill: CacheFill?
    private var freshened: CachedObject?
    private var reusable = false
    private var timer: Scheduled<Void>?
    private var alive: BackgroundRefresh?

    init(object: CachedObject, request: CacheRequest, cache: HTTPCache, head: HTTPRequestHead, timeout: TimeAmount, logger: Logger) {
        self.object = object
        self.request = request
        self.cache = cache
        self.head = head
        self.timeout = timeout
        self.logger = logger
    }

    func start(pool: BackendPool, connectTimeout: TimeAmount) {
        alive = self
        self.pool = pool
        pool.acquire(connectTimeout: connectTimeout) { result in
            switch result {
            case .failure(let error): self.finish(stored: false, why: "connect failed: \(error)")
            case .success(let connection):
                self.connection = connection
                connection.requestsServed += 1
                connection.handler.delegate = self
                connection.write(.head(self.head))
                connection.write(.end(nil))
                connection.flush()
                self.arm(on: connection.channel.eventLoop)
            }
        }
    }

    private func arm(on eventLoop: any EventLoop) {
        timer?.cancel()
        timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            self?.finish(stored: false, why: "timed out")
        }
    }

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard let connection else { return }
        arm(on: connection.channel.eventLoop)
        let now = cache.clock.now()
        let policy = request.admitted.generation.cache.policy
        switch part {
        case .head(let response):
            reusable = response.allowsUpstreamReuse
            let fields = HeaderFields(response.headers)
            let status = Int(response.status.code)
            if status == 304, Revalidation.isNotModifiedApplicable(notModified: fields, stored: object.stored.headers) {
                freshened = object.replacing(stored: object.stored.freshened(by: fields, requestTime: request.requestTime,
                                                                              responseTime: now, policy: policy))
            } else if case .storable = ProxyHandler.storability(response, fields, request, .GET, now: now) {
                let fieldsToStore = fields.removing([request.admitted.snapshot.config.headers.requestID.lowercased()])
                fill = CacheFill(status: status, headers: fieldsToStore, responseTime: now,
                                 limit: request.admitted.generation.cache.config.maxObjectSize,
                                 body: connection.channel.allocator.buffer(capacity: 0))
            }
        case .body(let body):
            if fill != nil, !fill!.append(body) { fill = nil }
        case .end:
            var stored = false
            if let freshened {
                cache.update(freshened, replacing: object)
                cache.store.counters.revalidated.wrappingIncrement(ordering: .relaxed)
                stored = true
            } else if let fill {
                let settings = request.admitted.generation.cache
                let replacement = CachedObject(
                    primary: object.primary, uri: object.uri,
                    stored: StoredResponse(status: fill.status, headers: fill.headers, requestTime: request.requestTime,
                                           responseTime: fill.responseTime, policy: settings.policy),
                    vary: VaryKey(response: fill.headers, request: request.fields) ?? object.vary,
                    body: fill.body, tags: CachedObject.tags(in: fill.headers, field: settings.config.tagHeader))
                stored = cache.insert(replacement)
            }
            finish(stored: stored, why: nil)
        }
    }

    func upstreamReadComplete() {}
    func upstreamWritabilityChanged(isWritable: Bool) {}
    func upstreamFailed(_ error: any Error) { finish(stored: false, why: "\(error)") }
    func upstreamClosed() { finish(stored: false, why: "closed") }

    private func finish(stored: Bool, why: String?) {
        guard let me = alive else { return }
        alive = nil
        timer?.cancel()
        if let connection {
            self.connection = nil
            if why == nil, reusable { pool?.release(connection) } else { connection.close() }
        }
        if let why { logger.info("background revalidation failed", metadata: ["uri": "\(object.uri)", "reason": "\(why)"]) }
        cache.flights.land(request.key.string, stored: stored)
        _ = me
    }
}
