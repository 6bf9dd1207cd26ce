import Atomics
import Logging
import NIOCore
import NIOHTTP1
import SluiceCache
import SluiceConfig

/// A request the cache phase forwards: what it found, what it sends upstream, and what to do
/// with the answer. Lives on the connection's event loop, with its exchange.
final class CacheRequest {
    let admitted: AdmittedHead
    let limitFields: [(String, String)]
    let key: CacheKey
    let target: TargetURI
    let fields: HeaderFields
    let requestTime: Int64
    /// The stored variant the forward revalidates, or falls back on when the origin fails.
    var stale: CachedObject?
    /// Validators sent upstream in place of the client's own (RFC 9111 §4.3.1).
    var conditional = HeaderFields()
    var reason = ForwardReason.miss
    /// This request's fetch is the one others for the key wait on (collapsing).
    var leads = false
    var collapsed = false
    /// The body being kept for the store, while the response may still be stored.
    var fill: CacheFill?
    /// A 304 freshened `stale` into this: the client gets it once the 304 has ended.
    var answerAfterEnd: CachedObject?
    /// What went into Cache-Status on the way out.
    var status = CacheStatus()

    init(admitted: AdmittedHead, limitFields: [(String, String)], key: CacheKey, target: TargetURI, fields: HeaderFields,
         requestTime: Int64) {
        self.admitted = admitted
        self.limitFields = limitFields
        self.key = key
        self.target = target
        self.fields = fields
        self.requestTime = requestTime
    }

    /// The fields a cached answer is chosen by: a HEAD is answered from a stored GET.
    var method: HTTPMethod { admitted.head.method }
}

/// A response body on its way into the store, given up once it outgrows `limit`.
struct CacheFill {
    let status: Int
    let headers: HeaderFields
    let responseTime: Int64
    let limit: Int
    var body: ByteBuffer

    /// False once the body is over the limit: the response then only streams through.
    mutating func append(_ part: ByteBuffer) -> Bool {
        guard body.readableBytes + part.readableBytes <= limit else { return false }
        var part = part
        body.writeBuffer(&part)
        return true
    }
}
