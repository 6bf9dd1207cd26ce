import Atomics
import Logging
import NIOCore
import NIOHTTP1
import SluiceBalancing
import SluiceConfig

// Retries: when a try fails before any response byte reached the client, the request may
// go again to another backend (Envoy's and nginx's proxy_next_upstream rules, bounded by the
// cluster's retry budget so that retries cannot multiply an outage).
extension ProxyHandler {
    /// A try failed because of the backend: outlier detection hears of it, then the request
    /// is retried elsewhere if it may be, else answered with `status` (or cut, if its
    /// response had started). `connecting`: nothing reached the backend, so any request may go again.
    func backendFailed(_ exchange: Exchange, _ outcome: UpstreamOutcome, _ status: HTTPResponseStatus, _ reason: String,
                       detail: String? = nil, connecting: Bool = false, retryable: Bool = true) {
        let now = NIODeadline.now()
        exchange.cluster.record(outcome, backend: exchange.backendIndex, latencyNanoseconds: exchange.tryLatency(at: now),
                                now: now.uptimeNanoseconds)
        if exchange.hedge != nil {
            // The hedge may still answer: wait for it rather than start yet another try.
            runtime.logger.info("first try lost, waiting for the hedge", metadata: [
                "request_id": "\(exchange.requestID)", "reason": "\(reason)",
            ])
            abandonTry(exchange)
            exchange.loseFirstTry()
            return
        }
        let replayable = connecting ? exchange.replay != nil : exchange.isReplayable
        if retryable, replayable, retry(exchange, after: reason, now: now.uptimeNanoseconds) { return }
        if serveStaleOnError(exchange, upstreamStatus: nil) { return }
        fail(exchange, status, reason, detail: detail)
    }

    /// A 502/503/504 (or another `retries.on_status`) head from the backend, already recorded
    /// and not yet relayed: retried when the request may go again; false means relay it.
    func retryStatus(_ exchange: Exchange, now: UInt64) -> Bool {
        guard exchange.cluster.config.retries.onStatus.contains(exchange.status), exchange.isReplayable else { return false }
        return retry(exchange, after: "upstream \(exchange.backendAddress) answered \(exchange.status)", now: now)
    }

    /// Starts the next try on another backend, when tries and budget allow.
    private func retry(_ exchange: Exchange, after reason: String, now: UInt64) -> Bool {
        let cluster = exchange.cluster
        guard !exchange.responseStarted, exchange.tries <= cluster.config.retries.maxRetries else { return false }
        exchange.markTried()
        guard let next = cluster.pick(hashKey: exchange.hashKey, excluding: exchange.tried, now: now, random: &loop.random) else {
            return false
        }
        guard cluster.retryBudget.tryWithdrawRetry(now: now) else {
            runtime.logger.info("retry budget exhausted", metadata: ["cluster": "\(cluster.config.name)", "request_id": "\(exchange.requestID)"])
            return false
        }
        runtime.logger.info("retrying on another backend", metadata: [
            "request_id": "\(exchange.requestID)", "failed": "\(exchange.backendAddress)", "next": "\(cluster.addresses[next])",
            "reason": "\(reason)", "try": "\(exchange.tries + 1)",
        ])
        // The rest of a retried response is not wanted: its connection is closed, not pooled.
        abandonTry(exchange)
        exchange.status = 0
        exchange.rewindForRetry(to: next)
        startTry(exchange)
        return true
    }

    /// Lets go of the current try's connection and slot; the exchange itself goes on.
    func abandonTry(_ exchange: Exchange) {
        upstreamTimer?.clear()
        exchange.releaseInFlight()
        exchange.connection?.close()
        exchange.connection = nil
    }

    /// A pooled connection that the backend closed just as Sluice reused it (its FIN crossing
    /// the request) says nothing about the backend: a replayable request goes once more, on a
    /// new connection to the same backend, as nginx does. It counts neither as a failure nor
    /// against the retry budget.
    func retryOnFreshConnection(_ exchange: Exchange) -> Bool {
        guard exchange.onReusedConnection, !exchange.retriedOnFreshConnection, !exchange.responseStarted,
              exchange.isReplayable else { return false }
        exchange.retriedOnFreshConnection = true
        runtime.logger.debug("retrying on a new connection after a stale pooled one", metadata: ["request_id": "\(exchange.requestID)"])
        abandonTry(exchange)
        exchange.rewindForRetry(to: exchange.backendIndex)
        startTry(exchange, freshConnection: true)
        return true
    }
}
