import NIOCore
import NIOHTTP1

// Pipelining and quiescing, done here rather than by NIO's HTTPServerPipelineHandler: that
// handler stops reading around every request (two epoll_ctl calls per request) and holds a
// buffer per connection; here reads stop only while pipelined requests actually wait.
/// What waits behind the request being answered: its successors' parts, or the parse error
/// that later bytes caused (answered in its turn, as HTTPServerPipelineHandler does).
enum Pipelined {
    case part(HTTPServerRequestPart)
    case parseError(HTTPParserError)
}

extension ProxyHandler {
    /// The current response is complete and the connection stays open: restart the idle
    /// timer and serve whatever the client pipelined meanwhile.
    func responseFinished() {
        responsePending = false
        clientTimeouts.responseCompleted()
        if quiescing, queued.isEmpty, !currentRequestOpen { return closeNow() }
        serveQueued()
    }

    /// Serves queued parts in order until one request's response is pending again. Re-entrant
    /// calls (a queued request answered at once) fold into the running loop.
    func serveQueued() {
        guard !draining, let context else { return }
        draining = true
        defer { draining = false }
        while !closing, !admitting, !queued.isEmpty, !(responsePending && !currentRequestOpen) {
            switch queued.removeFirst() {
            case .part(let part): process(part, context: context)
            case .parseError(let error): refuseMalformed(error)
            }
        }
        if queued.isEmpty, !readsPaused, readPending {
            readPending = false
            context.read()
        }
    }

    /// Writes the last part and closes. If the client is still sending a request body that
    /// Sluice will not read, only the write side closes first (lingering close, as nginx):
    /// closing with unread input makes the kernel reset the connection, and the client could
    /// lose the answer. Its input is discarded until it closes, or `client_idle` at most.
    /// (A client's own FIN closes the connection, as in nginx: over HTTP/1.1 it almost
    /// always means the client is gone, and the exchange is logged 499.)
    func writeLastAndClose(_ part: HTTPServerResponsePart, context: ChannelHandlerContext) {
        closing = true
        queued.removeAll()
        clientTimeouts.closing()
        let linger = currentRequestOpen && currentRequestMayHaveBody && !forceFullClose
        context.writeAndFlush(wrapOutboundOut(part)).assumeIsolated().whenComplete { _ in
            context.close(mode: linger ? .output : .all, promise: nil)
        }
    }

    /// Closes the connection without a last write; nothing after it is read as a request.
    func closeNow() {
        closing = true
        context?.close(promise: nil)
    }

    /// Graceful shutdown reached this connection: close now if idle, else after the
    /// current response, which then says `Connection: close`.
    func quiesce(_ context: ChannelHandlerContext) {
        quiescing = true
        guard responsePending || currentRequestOpen else { return closeNow() }
        if admitting {
            // The queue starts with the waiting request's own parts: keep them, drop what follows.
            if let end = queued.firstIndex(where: { if case .part(.end) = $0 { true } else { false } }) {
                queued.removeSubrange(queued.index(after: end)...)
            }
        } else {
            queued.removeAll()
        }
        if let exchange, !exchange.responseStarted { exchange.clientKeepAlive = false }
    }
}
