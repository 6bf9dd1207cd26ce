import NIOCore
import NIOHTTP1

/// The HTTP/1.1 response encoder of a client connection, in place of NIO's
/// `HTTPResponseEncoder` and with its framing rules, plus what NIO's cannot do: send a
/// response that is already bytes (a cache hit's head, serialised once per object), which
/// skips encoding each field on every hit.
///
/// It sits after the request decoder, so that it sees each request's method: the answer to a
/// HEAD or CONNECT carries no body (RFC 9110 §9.3.2, §9.3.6), and each final response answers
/// the oldest request not yet answered.
final class ClientResponseEncoder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = IOData

    /// The methods of requests not yet answered, oldest first; the first inline, as there is
    /// rarely more than one.
    private var nextMethod: HTTPMethod?
    private var laterMethods: [HTTPMethod] = []
    private var isChunked = false
    private var suppressBody = false
    private var context: ChannelHandlerContext?
    /// What the decoder before it produced, for DecoderParking: heads so far, and whether the
    /// latest part was an end.
    private(set) var decodedHeads = 0
    private(set) var lastDecodedWasEnd = false

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if nextMethod == nil { nextMethod = head.method } else { laterMethods.append(head.method) }
            decodedHeads &+= 1
            lastDecodedWasEnd = false
        case .body:
            lastDecodedWasEnd = false
        case .end:
            lastDecodedWasEnd = true
        }
        context.fireChannelRead(data)
    }

    private func takeMethod() -> HTTPMethod? {
        let method = nextMethod
        nextMethod = laterMethods.isEmpty ? nil : laterMethods.removeFirst()
        return method
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            // A 1xx other than 101 is followed by the final answer to the same request.
            let code = head.status.code
            var connect = false
            if !(code >= 100 && code < 200 && code != 101), let method = takeMethod() {
                suppressBody = method == .HEAD || method == .CONNECT
                connect = method == .CONNECT
            }
            let chunked = Self.frame(&head.headers, hasBody: !connect && head.status.mayHaveResponseBody, version: head.version)
            isChunked = chunked && !suppressBody
            var buffer = context.channel.allocator.buffer(capacity: 256)
            buffer.writeStatusLine(head.version, head.status)
            buffer.writeFields(head.headers)
            buffer.writeStaticString("\r\n")
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
        case .body(let body):
            if suppressBody {
                promise?.fail(NIOHTTPResponseEncoderError.responseBodyNotAllowed)
            } else if isChunked, body.readableBytes > 0 {
                // An empty chunk would end the body; it is written unframed, for its promise.
                var size = context.channel.allocator.buffer(capacity: 16)
                size.writeString(String(body.readableBytes, radix: 16))
                size.writeStaticString("\r\n")
                context.write(wrapOutboundOut(.byteBuffer(size)), promise: nil)
                context.write(wrapOutboundOut(body), promise: nil)
                // A failed write fails every write after it, so the last one's promise is enough.
                context.write(wrapOutboundOut(.byteBuffer(ByteBuffer(staticString: "\r\n"))), promise: promise)
            } else {
                context.write(wrapOutboundOut(body), promise: promise)
            }
        case .end(let trailers):
            if isChunked {
                var buffer = context.channel.allocator.buffer(capacity: trailers == nil ? 5 : 256)
                buffer.writeStaticString("0\r\n")
                if let trailers { buffer.writeFields(trailers) }
                buffer.writeStaticString("\r\n")
                context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
            } else if let promise {
                // Nothing to write, but the promise completes in order with the writes before it.
                context.write(wrapOutboundOut(.byteBuffer(ByteBuffer())), promise: promise)
            }
            isChunked = false
            suppressBody = false
        }
    }

    /// Sends a complete response that is already bytes, and flushes it. It answers the oldest
    /// request, as a head written the usual way would. False, sending nothing, once removed.
    func writeEncoded(head: ByteBuffer, body: ByteBuffer?) -> Bool {
        guard let context else { return false }
        _ = takeMethod()
        isChunked = false
        suppressBody = false
        if let body {
            context.write(wrapOutboundOut(.byteBuffer(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(body)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(head)), promise: nil)
        }
        return true
    }

    /// NIO's framing rules for a response: without a body, no framing fields; a Content-Length
    /// wins over Transfer-Encoding; otherwise HTTP/1.1 is chunked and HTTP/1.0 ends at close.
    /// Whether the body is chunked.
    private static func frame(_ headers: inout HTTPHeaders, hasBody: Bool, version: HTTPVersion) -> Bool {
        var hasLength = false
        var hasCoding = false
        for (name, _) in headers {
            if HeaderRewriting.equalsIgnoringCase(name, "content-length") { hasLength = true }
            else if HeaderRewriting.equalsIgnoringCase(name, "transfer-encoding") { hasCoding = true }
        }
        guard hasBody else {
            if hasLength { headers.remove(name: "content-length") }
            if hasCoding { headers.remove(name: "transfer-encoding") }
            return false
        }
        if hasLength {
            if hasCoding { headers.remove(name: "transfer-encoding") }
            return false
        }
        guard version.major == 1, version.minor >= 1 else { return false }
        headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        return true
    }
}

extension ByteBuffer {
    /// `HTTP/1.1 200 OK` and its CRLF.
    mutating func writeStatusLine(_ version: HTTPVersion, _ status: HTTPResponseStatus) {
        switch (version.major, version.minor) {
        case (1, 1): writeStaticString("HTTP/1.1 ")
        case (1, 0): writeStaticString("HTTP/1.0 ")
        default: writeString("HTTP/\(version.major).\(version.minor) ")
        }
        if status == .ok {
            writeStaticString("200 OK\r\n")
        } else {
            writeString(String(status.code))
            writeStaticString(" ")
            writeString(status.reasonPhrase)
            writeStaticString("\r\n")
        }
    }

    /// Each field as `name: value` and its CRLF (the blank line that ends a head is the caller's).
    mutating func writeFields(_ headers: HTTPHeaders) {
        for (name, value) in headers { addField(name, value) }
    }
}

/// Where the fields Sluice adds to a response go: a head still to be encoded, or bytes.
protocol FieldSink {
    mutating func addField(_ name: String, _ value: String)
}

extension HTTPHeaders: FieldSink {
    mutating func addField(_ name: String, _ value: String) { add(name: name, value: value) }
}

extension ByteBuffer: FieldSink {
    mutating func addField(_ name: String, _ value: String) {
        writeString(name)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }
}
