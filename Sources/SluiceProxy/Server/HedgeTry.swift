import Atomics
import NIOCore
import NIOHTTP1
import SluiceBalancing

/// The second try of a hedged request: the same bodiless request, sent to another backend
/// while the first try is still waiting for its response head. It is its connection's
/// delegate until it either answers first (ProxyHandler then hands its connection to the
/// exchange and becomes that connection's delegate) or is cancelled.
final class HedgeTry: UpstreamDelegate {
    private weak var handler: ProxyHandler?
    let exchange: Exchange
    let backendIndex: Int
    private(set) var started: NIODeadline?
    private var connection: UpstreamConnection?
    /// A pooled connection that turns out stale says nothing about its backend.
    private var onReusedConnection = false
    private var timer: Scheduled<Void>?
    private var holdsInFlight = false
    private var finished = false

    init(handler: ProxyHandler, exchange: Exchange, backendIndex: Int) {
        self.handler = handler
        self.exchange = exchange
        self.backendIndex = backendIndex
    }

    var address: String { exchange.cluster.addresses[backendIndex] }
    private var backend: BackendHealth { exchange.cluster.health.backends[backendIndex] }
    /// Whether outlier detection should count a failure of this try.
    var failureCounts: Bool { !onReusedConnection }

    func start(head: HTTPRequestHead, connectTimeout: TimeAmount, headerTimeout: TimeAmount, on eventLoop: any EventLoop) {
        let pool = exchange.cluster.pools[backendIndex]
        let backend = self.backend
        backend.inFlight.wrappingIncrement(ordering: .relaxed)
        holdsInFlight = true
        let connecting = !pool.hasIdleConnection
        if connecting { backend.pendingConnects.wrappingIncrement(ordering: .relaxed) }
        timer = eventLoop.assumeIsolated().scheduleTask(in: headerTimeout) { [weak self] in
            guard let self else { return }
            self.handler?.hedgeFailed(self, .timeout, "hedge to \(self.address) timed out")
        }
        pool.acquire(connectTimeout: connectTimeout) { [weak self] result in
            if connecting { backend.pendingConnects.wrappingDecrement(ordering: .relaxed) }
            guard let self, !self.finished else {
                if case .success(let connection) = result { pool.release(connection) }
                return
            }
            switch result {
            case .failure:
                self.handler?.hedgeFailed(self, .connectFailure, "hedge could not connect to \(self.address)")
            case .success(let connection):
                connection.requestsServed += 1
                self.onReusedConnection = connection.requestsServed > 1
                self.connection = connection
                connection.handler.delegate = self
                self.started = .now()
                connection.write(.head(head))
                connection.write(.end(nil))
                connection.flush()
            }
        }
    }

    /// The hedge answered first: its connection and in-flight slot pass to the exchange.
    func handOver() -> UpstreamConnection? {
        finished = true
        timer?.cancel()
        holdsInFlight = false
        defer { connection = nil }
        return connection
    }

    /// The other try answered first, or the exchange ended: the hedge's work is thrown away.
    func cancel() {
        finished = true
        timer?.cancel()
        connection?.close()
        connection = nil
        if holdsInFlight {
            holdsInFlight = false
            backend.inFlight.wrappingDecrement(ordering: .relaxed)
        }
    }

    // MARK: UpstreamDelegate: only a head can come before the hand-over.

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard case .head(let head) = part else { return }
        handler?.hedgeAnswered(self, head)
    }

    func upstreamReadComplete() {}
    func upstreamWritabilityChanged(isWritable: Bool) {}

    func upstreamFailed(_ error: any Error) {
        handler?.hedgeFailed(self, error is HTTPParserError ? .serverError : .reset, "hedge to \(address) failed: \(error)")
    }

    func upstreamClosed() {
        handler?.hedgeFailed(self, .reset, "hedge to \(address): connection closed")
    }
}
