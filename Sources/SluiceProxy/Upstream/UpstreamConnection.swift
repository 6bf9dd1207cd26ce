import NIOCore
import NIOHTTP1

/// One keep-alive connection to a backend, owned by the pool of its event loop.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
    /// The pool's idle-timeout task while the connection waits in the pool.
    var idleTimer: Scheduled<Void>?
    var requestsServed = 0

    init(channel: any Channel, handler: UpstreamHandler) {
        self.channel = channel
        self.handler = handler
    }

    func write(_ part: HTTPClientRequestPart) {
        channel.write(part, promise: nil)
    }

    func flush() { channel.flush() }

    func close() {
        handler.delegate = nil
        channel.close(promise: nil)
    }
}
