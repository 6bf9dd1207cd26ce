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
        if quiescing, queued.isEmpty, !currentRequestOpen {
            closing = true
            context?.close(promise: nil)
            return
        }
        serveQueued()
    }

    /// Serves queued parts in order until one request's response is pending again. Re-entrant
    /// calls (a queued request answered at once) fold into the running loop.
    func serveQueued() {
        guard !draining, let context else { return }
        draining = true
        defer { draining = false }
        while !closing, !queued.isEmpty, !(responsePending && !currentRequestOpen) {
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

    /// Graceful shutdown reached this connection: close now if idle, else after the
    /// current response, which then says `Connection: close`.
    func quiesce(_ context: ChannelHandlerContext) {
        quiescing = true
        guard responsePending || currentRequestOpen else {
            closing = true
            context.close(promise: nil)
            return
        }
        queued.removeAll()
        if let exchange, !exchange.responseStarted { exchange.clientKeepAlive = false }
    }
}
