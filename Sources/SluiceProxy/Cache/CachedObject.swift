import NIOCore
import NIOHTTP1
import SluiceCache

/// One stored response with its body. Immutable once stored, so any event loop may serve it
/// while another replaces or evicts it.
final class CachedObject: Sendable {
    /// `primary` and the variant's Vary values: what eviction and replacement go by.
    let id: String
    /// The primary key (`CacheKey.string`): every variant of one resource shares it.
    let primary: String
    /// The key's URI part: what invalidation and purge by URL or prefix match.
    let uri: String
    let stored: StoredResponse
    /// The Vary fields and the request's values for them when stored (RFC 9111 §4.1).
    let vary: VaryKey
    let body: ByteBuffer
    /// From the configured tag field (`cache.tag_header`), for purge by tag.
    let tags: [String]
    /// What it costs the memory store: body, fields, and the keys.
    let size: Int
    /// The stored fields as the client gets them, less what each answer sets anew.
    let clientFields: HTTPHeaders
    static let replacedFields = ["age", "content-length", "cache-status", "x-cache"]
    /// A full answer's head as bytes, up to the fields each answer adds (ClientResponseEncoder
    /// sends it): the HTTP/1.1 status line, the fields that pass to clients, Content-Length.
    /// Nil for a status that has no body (204, 304), whose answers go field by field.
    let encodedHead: ByteBuffer?
    /// The stored Via values, which Sluice's hop joins on each answer.
    let storedVia: [String]
    /// Whether the stored fields include RateLimit ones, which a route's own limits replace.
    let hasLimitFields: Bool
    /// Whether they include Connection, whose named fields (even Age or Content-Length) the
    /// field-by-field answer drops: such an object is always answered that way.
    let hasConnectionField: Bool

    init(primary: String, uri: String, stored: StoredResponse, vary: VaryKey, body: ByteBuffer, tags: [String]) {
        self.primary = primary
        self.uri = uri
        self.stored = stored
        self.vary = vary
        // Kept in a buffer of its own size: the one it was read into may have grown by
        // doubling, and the store's bound is on memory held, not on bytes readable.
        if body.capacity > body.readableBytes {
            var exact = ByteBufferAllocator().buffer(capacity: body.readableBytes)
            exact.writeImmutableBuffer(body)
            self.body = exact
        } else {
            self.body = body
        }
        self.tags = tags
        id = vary.fieldNames.isEmpty ? primary : primary + "\n\n" + vary.string
        let fieldBytes = stored.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        clientFields = stored.headers.removing(Self.replacedFields).httpHeaders
        let passed = HeaderRewriting.passedFields(clientFields, dropLimitFields: false)
        let status = HTTPResponseStatus(statusCode: stored.status)
        if status.mayHaveResponseBody {
            var head = ByteBufferAllocator().buffer(capacity: fieldBytes + 64)
            head.writeStatusLine(.http1_1, status)
            head.writeFields(passed.fields)
            head.addField("Content-Length", String(self.body.readableBytes))
            encodedHead = head
        } else {
            encodedHead = nil
        }
        storedVia = passed.via
        hasLimitFields = clientFields.contains { HeaderRewriting.isRateLimitField($0.name) }
        hasConnectionField = clientFields.contains(name: "connection")
        // A fixed overhead per object, so that many tiny objects cannot exceed the bound unseen.
        // Fields are kept three times (as stored, as sent, and as bytes).
        size = self.body.capacity + 2 * fieldBytes + (encodedHead?.capacity ?? 0) + id.utf8.count + uri.utf8.count + 256
    }

    /// The same object with fields freshened by a 304 (RFC 9111 §4.3.4).
    func replacing(stored: StoredResponse) -> CachedObject {
        CachedObject(primary: primary, uri: uri, stored: stored, vary: vary, body: body, tags: tags)
    }

    /// The tags a response carries in `field`: space- or comma-separated (Surrogate-Key uses
    /// spaces, Cache-Tag commas).
    static func tags(in headers: HeaderFields, field: String) -> [String] {
        headers.values(field).flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init) }
    }
}
