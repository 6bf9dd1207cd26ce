import Atomics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SluiceConfig
import SluiceLimits
import SluiceRedis

/// A policy shared through Redis (`store: redis://...`): tokens leased in batches by the
/// LeaseLedger, fetched and returned with the atomic scripts of RedisLimitStore. No request
/// waits longer than `store_timeout`; past it, or when Redis fails, `on_store_error` decides.
final class GlobalLimit: Sendable {
    private struct State {
        var ledger: LeaseLedger
        var waiters: [UInt64: [EventLoopPromise<LimitDecision>]] = [:]
    }

    private let store: RedisLimitStore
    private let config: RateLimitPolicy
    private let policy: LimitPolicy
    private let counters: PolicyCounters
    private let logger: Logger
    private let timeout: TimeAmount
    private let state: NIOLockedValueBox<State>
    private let lastErrorLog = ManagedAtomic<UInt64>(0)
    private let expiry: NIOLockedValueBox<RepeatedTask?>

    init(config: RateLimitPolicy, policy: LimitPolicy, store: RedisLimitStore, counters: PolicyCounters, eventLoop: any EventLoop,
         logger: Logger)
    {
        self.config = config
        self.policy = policy
        self.store = store
        self.counters = counters
        self.logger = logger
        timeout = TimeAmount(config.storeTimeout)
        // Unused tokens go back after a second idle: long enough to serve a burst, short
        // enough that an idle instance does not sit on the shared budget.
        state = NIOLockedValueBox(State(ledger: LeaseLedger(leaseSize: config.leaseSize, idleReturn: 1_000_000_000,
                                                            maxKeys: config.maxKeys)))
        expiry = NIOLockedValueBox(nil)
        let task = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            self?.returnIdleLeases(now: NIODeadline.now().uptimeNanoseconds)
        }
        expiry.withLockedValue { $0 = task }
    }

    /// Set once the policy is retired: a lease granted after that goes straight back.
    private let retired = ManagedAtomic(false)

    func stop() { expiry.withLockedValue { $0?.cancel() } }

    /// The policy is going away (reload, shutdown): every token it holds goes back to Redis, so
    /// that its successor (same name, same Redis key) or another instance can use them. The
    /// future completes when the store has answered each give-back, or failed.
    func retire(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        stop()
        retired.store(true, ordering: .relaxed)
        let held = state.withLockedValue { $0.ledger.removeAll() }
        let returns = held.map { giveBack($0.key, $0.tokens) }
        return EventLoopFuture.andAllComplete(returns, on: eventLoop)
    }

    func spend(keyHash key: UInt64, now: UInt64, eventLoop: any EventLoop) -> PolicyStep {
        var evicted: (key: UInt64, tokens: Int)?
        let (action, entry, waiter) = state.withLockedValue { state -> (LeaseLedger.Spend, LeaseLedger.Entry?, EventLoopPromise<LimitDecision>?) in
            let action = state.ledger.spend(key, now: now, evicted: &evicted)
            guard case .wait = action else { return (action, state.ledger.entry(key), nil) }
            let promise = eventLoop.makePromise(of: LimitDecision.self)
            state.waiters[key, default: []].append(promise)
            return (action, nil, promise)
        }
        if let evicted { giveBack(evicted.key, evicted.tokens) }
        switch action {
        case .allowed(let refill):
            if let refill { fetch(key, refill) }
            return .done(decision(allowed: true, entry: entry, retryAfter: 0))
        case .refused(let retryAfter):
            return .done(decision(allowed: false, entry: entry, retryAfter: retryAfter))
        case .wait(let fetchSize):
            let waiter = waiter!
            if let fetchSize { fetch(key, fetchSize) }
            let deadline = eventLoop.scheduleTask(in: timeout) { [weak self] in self?.giveUp(waiter, key: key, reason: "store timeout") }
            waiter.futureResult.whenComplete { _ in deadline.cancel() }
            return .pending(waiter.futureResult)
        }
    }

    /// A token spent for a request that another policy then refused goes back to the lease.
    func refund(keyHash key: UInt64) {
        state.withLockedValue { $0.ledger.refund(key) }
    }

    private func fetch(_ key: UInt64, _ count: Int) {
        store.acquire(key: redisKey(key), algorithm: config.algorithm, tiers: config.tiers, want: count, timeout: timeout)
            .whenComplete { result in
                let now = NIODeadline.now().uptimeNanoseconds
                switch result {
                case .success(let lease): self.granted(key, lease, now: now)
                case .failure(let error): self.failed(key, error)
                }
            }
    }

    private func granted(_ key: UInt64, _ lease: RateLease, now: UInt64) {
        var answers: [(EventLoopPromise<LimitDecision>, LimitDecision)] = []
        var refetch = false
        state.withLockedValue { state in
            state.ledger.granted(key, count: lease.granted, retryAfter: UInt64(lease.retryAfterMilliseconds) * 1_000_000,
                                 storeRemaining: lease.remaining, now: now)
            var waiting = state.waiters.removeValue(forKey: key) ?? []
            while !waiting.isEmpty, state.ledger.spendAfterWait(key, now: now) {
                answers.append((waiting.removeFirst(), decision(allowed: true, entry: state.ledger.entry(key), retryAfter: 0)))
            }
            guard !waiting.isEmpty else { return }
            if lease.granted == 0 {
                let entry = state.ledger.entry(key)
                let wait = (entry?.deniedUntil ?? now) &- now
                answers += waiting.map { ($0, decision(allowed: false, entry: entry, retryAfter: wait)) }
            } else {
                // More waiters than the lease held: they wait (within their deadlines) on another fetch.
                state.waiters[key] = waiting
                refetch = state.ledger.beginFetch(key) != nil
            }
        }
        if refetch, !retired.load(ordering: .relaxed) { fetch(key, config.leaseSize) }
        for (promise, decision) in answers { promise.succeed(decision) }
        if retired.load(ordering: .relaxed) {
            for (key, tokens) in state.withLockedValue({ $0.ledger.removeAll() }) { _ = giveBack(key, tokens) }
        }
    }

    private func failed(_ key: UInt64, _ error: any Error) {
        let waiting = state.withLockedValue { state in
            state.ledger.failed(key)
            return state.waiters.removeValue(forKey: key) ?? []
        }
        noteStoreError("\(error)")
        for promise in waiting { promise.succeed(storeErrorDecision()) }
    }

    /// A waiter's deadline passed before the store answered.
    private func giveUp(_ promise: EventLoopPromise<LimitDecision>, key: UInt64, reason: String) {
        let removed = state.withLockedValue { state -> Bool in
            guard var waiting = state.waiters[key], let index = waiting.firstIndex(where: { $0.futureResult === promise.futureResult })
            else { return false }
            waiting.remove(at: index)
            state.waiters[key] = waiting.isEmpty ? nil : waiting
            return true
        }
        guard removed else { return }
        noteStoreError(reason)
        promise.succeed(storeErrorDecision())
    }

    private func returnIdleLeases(now: UInt64) {
        let unused = state.withLockedValue { $0.ledger.expire(now: now) }
        for (key, tokens) in unused { giveBack(key, tokens) }
    }

    @discardableResult
    private func giveBack(_ key: UInt64, _ tokens: Int) -> EventLoopFuture<[Int]> {
        let returned = store.giveBack(key: redisKey(key), algorithm: config.algorithm, tiers: config.tiers, count: tokens, timeout: timeout)
        returned.whenFailure { self.noteStoreError("give back: \($0)") }
        return returned
    }

    private func redisKey(_ key: UInt64) -> String { "\(config.name):\(String(key, radix: 16))" }

    /// Counted always; logged at most once a second per policy, as Redis being down would
    /// otherwise log once per request.
    private func noteStoreError(_ reason: String) {
        counters.storeErrors.wrappingIncrement(ordering: .relaxed)
        let now = NIODeadline.now().uptimeNanoseconds
        let last = lastErrorLog.load(ordering: .relaxed)
        guard now &- last >= 1_000_000_000,
              lastErrorLog.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged
        else { return }
        logger.warning("rate limit store error", metadata: [
            "policy": "\(config.name)", "error": "\(reason)", "on_store_error": "\(config.onStoreError.rawValue)",
        ])
    }

    /// No tiers: the fields cannot say anything true about a quota the store did not report.
    private func storeErrorDecision() -> LimitDecision {
        LimitDecision(allowed: config.onStoreError == .allow, retryAfter: 1_000_000_000, tierCount: 0)
    }

    /// A decision for the RateLimit fields from what the ledger knows: the store's count of
    /// its closest tier at the last fetch plus the tokens held here.
    private func decision(allowed: Bool, entry: LeaseLedger.Entry?, retryAfter: UInt64) -> LimitDecision {
        let tierIndex = min(entry?.storeTier ?? 0, policy.tiers.count - 1)
        var decision = LimitDecision(allowed: allowed, retryAfter: allowed ? 0 : retryAfter, tierCount: policy.tiers.count,
                                     closestTier: tierIndex)
        let remaining = (entry?.storeRemaining ?? 0) + (entry?.tokens ?? 0)
        for (index, tier) in policy.tiers.enumerated() {
            let missing = max(0, tier.capacity - remaining)
            let reset = UInt64(Double(missing) / Double(tier.limit) * Double(tier.window))
            decision.setTier(index, remaining: remaining, resetAfter: reset)
        }
        return decision
    }
}
