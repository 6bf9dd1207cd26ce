import Atomics
import Logging
import NIOCore
import NIOHTTP1
import SluiceCache
import SluiceConfig

// Answers from the store: a hit, a stale object served in its window, or the object a 304
// has just freshened.
extension ProxyHandler {
    /// Writes `object` as the answer to `request`: the stored fields with Age (RFC 9111 §5.1)
    /// and Cache-Status; the client's own conditional (§4.3.2) and a single Range (RFC 9110
    /// §14) answered from it; no body for HEAD. Accounted here unless `exchange` is given
    /// (its own record then does it, with `result` for the access log).
    func serveCached(_ object: CachedObject, reuse: ServeDecision.Reuse, to request: CacheRequest, status: CacheStatus,
                     keepAlive: Bool, exchange: Exchange? = nil, result: String = "hit") {
        guard let context else { return }
        let admitted = request.admitted
        let close = !keepAlive || quiescing
        if !close, serveEncoded(object, reuse: reuse, to: request, status: status, exchange: exchange, result: result) { return }
        let now = runtime.cache.clock.now()
        // The stored fields as NIO's, made once per object; fields a qualified no-cache names
        // are left out only for the reuses that need it.
        var headers = reuse.omittedFields.isEmpty
            ? object.clientFields
            : object.stored.headers.removing(CachedObject.replacedFields + reuse.omittedFields).httpHeaders
        var code = object.stored.status
        var body: ByteBuffer? = request.method == .HEAD ? nil : object.body
        var length = object.body.readableBytes
        let conditional = request.fields.contains("If-None-Match") || request.fields.contains("If-Modified-Since")
        switch conditional ? Revalidation.answer(method: request.method.rawValue, request: request.fields, stored: object.stored) : .full {
        case .notModified(let notModified):
            code = 304
            headers = notModified.httpHeaders
            body = nil
            length = -1
        case .full where request.method == .GET && request.fields.contains("Range"):
            switch rangeAnswer(object, request, now: now) {
            case .partial(let first, let last):
                code = 206
                headers.add(name: "Content-Range", value: ByteRange.contentRange(first: first, last: last, length: length))
                body = object.body.getSlice(at: object.body.readerIndex + first, length: last - first + 1)
                length = last - first + 1
            case .unsatisfiable:
                code = 416
                headers = ["Content-Range": ByteRange.unsatisfiedRange(length: length)]
                body = nil
                length = 0
            case .full, .passThrough:
                break
            }
        case .full:
            break
        }
        headers.replaceOrAdd(name: "Age", value: String(reuse.age))
        if length >= 0 { headers.replaceOrAdd(name: "Content-Length", value: String(length)) }
        var head = HeaderRewriting.clientHead(
            from: HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers),
            requestVersion: admitted.head.version, keepAlive: !close, policy: admitted.snapshot.config.headers,
            requestID: admitted.local.requestID, limitFields: request.limitFields)
        head.headers.remove(name: "cache-status")
        head.headers.remove(name: "x-cache")
        head.headers.add(contentsOf: cacheFields(status, upstream: nil, hit: status.hit, request: request))
        closing = closing || close
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        recordCached(request, status: code, sent: body?.readableBytes ?? 0, exchange: exchange, result: result)
        if close {
            writeLastAndClose(.end(nil), context: context)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            responseFinished()
        }
    }

    /// The common hit (a full GET answer on a kept-alive HTTP/1.1 connection) sent as the
    /// object's encoded head, the fields of this answer, and the body: no field of the stored
    /// response is encoded again. False, having sent nothing, for any other answer.
    private func serveEncoded(_ object: CachedObject, reuse: ServeDecision.Reuse, to request: CacheRequest,
                              status: CacheStatus, exchange: Exchange?, result: String) -> Bool {
        let admitted = request.admitted
        guard let encoder = responseEncoder, let encodedHead = object.encodedHead, request.method == .GET,
              admitted.head.version == .http1_1, reuse.omittedFields.isEmpty,
              request.limitFields.isEmpty || !object.hasLimitFields, !object.hasConnectionField,
              !request.fields.contains("If-None-Match"), !request.fields.contains("If-Modified-Since"),
              !request.fields.contains("Range")
        else { return false }
        let policy = admitted.snapshot.config.headers
        var head = ByteBufferAllocator().buffer(capacity: encodedHead.readableBytes + 256)
        head.writeImmutableBuffer(encodedHead)
        head.addField("Age", String(reuse.age))
        HeaderRewriting.addClientFields(
            to: &head, via: object.storedVia, version: .http1_1, hasRequestID: object.clientFields.contains(name: policy.requestID),
            requestID: admitted.local.requestID, limitFields: request.limitFields, keepAlive: true, requestVersion: .http1_1,
            policy: policy)
        for (name, value) in cacheFields(status, upstream: nil, hit: status.hit, request: request) { head.addField(name, value) }
        head.writeStaticString("\r\n")
        guard encoder.writeEncoded(head: head, body: object.body.readableBytes > 0 ? object.body : nil) else { return false }
        recordCached(request, status: object.stored.status, sent: object.body.readableBytes, exchange: exchange, result: result)
        responseFinished()
        return true
    }

    private func recordCached(_ request: CacheRequest, status: Int, sent: Int, exchange: Exchange?, result: String) {
        if let exchange {
            exchange.bytesOut += sent
            exchange.cacheResult = result
            record(exchange, status: status, error: nil)
        } else {
            recordLocal(request.admitted.local, status: status, route: request.admitted.route.name, bytesOut: sent, cache: result)
        }
    }

    /// Cache-Status after what caches upstream said (RFC 9211 §2), and X-Cache when asked for.
    func cacheFields(_ status: CacheStatus, upstream: String?, hit: Bool, request: CacheRequest) -> [(String, String)] {
        var fields = [("Cache-Status", status.appended(to: upstream))]
        if request.admitted.generation.cache.config.xCache { fields.append(("X-Cache", hit ? "HIT" : "MISS")) }
        return fields
    }
}
