import Logging
import NIOCore
import NIOHTTP1
import SluiceBalancing
import SluiceConfig

// Hedging (`routes[].hedge`): an idempotent request without a body that has no response head
// after the delay goes to a second backend as well; the first head wins and the other try is
// cancelled. One hedge per request, each taken from the cluster's retry budget.
extension ProxyHandler {
    /// Called once the request is fully sent on a try: arms the hedge timer when the route hedges.
    func scheduleHedge(_ exchange: Exchange) {
        guard let hedge = exchange.route.hedge, exchange.mayHedge, let context else { return }
        let delay: TimeAmount
        switch hedge.delay {
        case .fixed(let duration):
            delay = TimeAmount(duration)
        case .p95:
            // Until enough responses are seen there is no p95 to trust, so no hedge.
            guard let p95 = exchange.cluster.latency.quantile(0.95, now: NIODeadline.now().uptimeNanoseconds) else { return }
            delay = .nanoseconds(Int64(clamping: p95))
        }
        exchange.hedgeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self, weak exchange] in
            guard let self, let exchange, self.exchange === exchange else { return }
            self.launchHedge(exchange)
        }
    }

    private func launchHedge(_ exchange: Exchange) {
        exchange.hedgeTimer = nil
        guard !exchange.responseStarted, exchange.hedge == nil, let context else { return }
        let cluster = exchange.cluster
        let now = NIODeadline.now().uptimeNanoseconds
        guard let index = cluster.pick(hashKey: exchange.hashKey, excluding: exchange.tried + [exchange.backendIndex], now: now,
                                       random: &loop.random),
              index != exchange.backendIndex
        else { return }
        guard cluster.retryBudget.tryWithdrawRetry(now: now) else {
            runtime.logger.info("retry budget exhausted: no hedge", metadata: ["cluster": "\(cluster.config.name)", "request_id": "\(exchange.requestID)"])
            return
        }
        let hedge = HedgeTry(handler: self, exchange: exchange, backendIndex: index)
        exchange.startHedge(hedge)
        runtime.logger.info("hedging", metadata: [
            "request_id": "\(exchange.requestID)", "waiting_on": "\(exchange.backendAddress)", "hedge": "\(hedge.address)",
        ])
        hedge.start(head: exchange.upstreamHead, connectTimeout: TimeAmount(exchange.route.upstreamConnect),
                    headerTimeout: exchange.headerTimeout, on: context.eventLoop)
    }

    /// The hedge's head came first: the first try is cancelled and the hedge carries on as
    /// the exchange's try.
    func hedgeAnswered(_ hedge: HedgeTry, _ head: HTTPResponseHead) {
        guard let exchange, exchange.hedge === hedge else { return hedge.cancel() }
        exchange.endHedge()
        abandonTry(exchange)
        guard let connection = hedge.handOver() else { return }
        runtime.logger.info("hedge answered first", metadata: [
            "request_id": "\(exchange.requestID)", "cancelled": "\(exchange.backendAddress)", "winner": "\(hedge.address)",
        ])
        exchange.adoptHedge(hedge, connection: connection)
        connection.handler.delegate = self
        connection.handler.setReadsPaused(!(context?.channel.isWritable ?? true))
        receivedResponseHead(head, exchange)
    }

    /// The hedge failed: outlier detection hears of it; the first try goes on, unless it has
    /// already failed too, which ends the exchange.
    func hedgeFailed(_ hedge: HedgeTry, _ outcome: UpstreamOutcome, _ reason: String) {
        guard let exchange, exchange.hedge === hedge else { return hedge.cancel() }
        exchange.endHedge()
        hedge.cancel()
        if hedge.failureCounts {
            let now = NIODeadline.now()
            let latency = hedge.started.map { UInt64(max(0, (now - $0).nanoseconds)) } ?? 0
            exchange.cluster.record(outcome, backend: hedge.backendIndex, latencyNanoseconds: latency, now: now.uptimeNanoseconds)
        }
        runtime.logger.info("\(reason)", metadata: ["request_id": "\(exchange.requestID)"])
        if exchange.firstTryLost {
            if serveStaleOnError(exchange, upstreamStatus: nil) { return }
            fail(exchange, outcome == .timeout ? .gatewayTimeout : .badGateway, reason)
        }
    }
}
