import NIOCore
import NIOHTTP1

/// One keep-alive connection to a backend, owned by the pool of its event loop.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
    /// Runs the pool's `idle_timeout` while the connection waits in the pool.
    let idleTimer: DeadlineTimer
    var requestsServed = 0

    init(channel: any Channel, handler: UpstreamHandler, idleTimeout: TimeAmount) {
        self.channel = channel
        self.handler = handler
        idleTimer = DeadlineTimer(eventLoop: channel.eventLoop, step: idleTimeout)
    }

    func write(_ part: HTTPClientRequestPart) {
        handler.write(part)
    }

    func flush() { handler.flush() }

    func close() {
        idleTimer.cancel()
        handler.delegate = nil
        channel.close(promise: nil)
    }
}
