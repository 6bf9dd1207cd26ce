import NIOCore
import NIOHTTP1

/// One keep-alive connection to a backend, owned by the pool of its event loop; or, on an
/// HTTP/2 cluster, one stream (`isStream`), which carries one exchange and is never pooled.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
    let isStream: Bool
    /// Runs the pool's `idle_timeout` while the connection waits in the pool; a stream, never
    /// pooled, has none (so a request on HTTP/2 allocates no timer for it).
    let idleTimer: DeadlineTimer?
    /// Exchanges this connection carried (a stream carries one).
    var requestsServed = 0

    /// `idleTimeout` nil: a stream.
    init(channel: any Channel, handler: UpstreamHandler, idleTimeout: TimeAmount?, timers: LoopTimers? = nil) {
        self.channel = channel
        self.handler = handler
        isStream = idleTimeout == nil
        idleTimer = idleTimeout.map { DeadlineTimer(timers: timers ?? LoopTimers(eventLoop: channel.eventLoop), step: $0) }
    }

    /// For a stream: gives its place back to its HTTP/2 connection, once, at whichever comes
    /// first, the end of its exchange or its close (which NIO reports a little later).
    var onStreamEnd: (() -> Void)?

    func endStream() {
        let end = onStreamEnd
        onStreamEnd = nil
        end?()
    }

    func write(_ part: HTTPClientRequestPart) {
        handler.write(part)
    }

    func flush() { handler.flush() }

    func close() {
        idleTimer?.cancel()
        handler.delegate = nil
        channel.close(promise: nil)
    }
}

extension HTTPResponseHead {
    /// Whether the exchange may end by `release` rather than `close`: keep-alive for HTTP/1.x;
    /// an HTTP/2 stream always, since it ends by itself and closing it would reset it.
    var allowsUpstreamReuse: Bool { isKeepAlive || version.major == 2 }
}
