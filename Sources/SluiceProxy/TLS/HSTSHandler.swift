import NIOCore
import NIOHTTP1

/// Adds Strict-Transport-Security to every final response head a TLS listener sends (RFC 6797
/// §7.2: only over secure transport), Sluice's own answers included, as nginx's `always`.
final class HSTSHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let value: String

    init(value: String) { self.value = value }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data), head.status.code >= 200 else {
            return context.write(data, promise: promise)
        }
        if !head.headers.contains(name: "strict-transport-security") {
            head.headers.add(name: "Strict-Transport-Security", value: value)
        }
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}
