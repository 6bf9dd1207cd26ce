import SluiceLimits
import Testing

/// The lease bookkeeping of a global limit, driven by hand: who fetches, who waits, when
/// tokens go back, and the accuracy bound against a simulated shared store.
@Suite struct LeaseLedgerTests {
    static let second: UInt64 = 1_000_000_000

    @Test func theFirstRequestFetchesAndLaterOnesJoinThatFetch() {
        var ledger = LeaseLedger(leaseSize: 10, idleReturn: Self.second, maxKeys: 100)
        var evicted: (key: UInt64, tokens: Int)?
        #expect(ledger.spend(7, now: 0, evicted: &evicted) == .wait(fetch: 10))
        #expect(ledger.spend(7, now: 1, evicted: &evicted) == .wait(fetch: nil))
        ledger.granted(7, count: 10, retryAfter: 0, storeRemaining: [90], now: 2)
        #expect(ledger.spendAfterWait(7, now: 2) && ledger.spendAfterWait(7, now: 2))
        #expect(ledger.entry(7)?.tokens == 8)
        #expect(ledger.entry(7)?.storeRemaining == 90)
        #expect(evicted == nil)
    }

    @Test func aRefillStartsAtHalfAndNeverHoldsMoreThanALease() {
        var ledger = LeaseLedger(leaseSize: 10, idleReturn: Self.second, maxKeys: 100)
        var evicted: (key: UInt64, tokens: Int)?
        _ = ledger.spend(1, now: 0, evicted: &evicted)
        ledger.granted(1, count: 10, retryAfter: 0, storeRemaining: [0], now: 0)
        var refills: [Int?] = []
        for _ in 0..<5 {
            guard case .allowed(let refill) = ledger.spend(1, now: 1, evicted: &evicted) else { Issue.record("not allowed"); return }
            refills.append(refill)
        }
        // 10 → 5 tokens: the fifth spend asks for 10 − 5 more, and only once.
        #expect(refills == [nil, nil, nil, nil, 5])
        #expect(ledger.spend(1, now: 1, evicted: &evicted) == .allowed(refill: nil))
        ledger.granted(1, count: 5, retryAfter: 0, storeRemaining: [0], now: 2)
        #expect(ledger.entry(1)!.tokens <= 10)
    }

    @Test func anEmptyGrantRefusesLocallyUntilTheStoresRetryTime() {
        var ledger = LeaseLedger(leaseSize: 4, idleReturn: Self.second, maxKeys: 100)
        var evicted: (key: UInt64, tokens: Int)?
        _ = ledger.spend(3, now: 0, evicted: &evicted)
        ledger.granted(3, count: 0, retryAfter: 2 * Self.second, storeRemaining: [0], now: 10)
        #expect(ledger.spend(3, now: 10 + Self.second, evicted: &evicted) == .refused(retryAfter: Self.second))
        #expect(ledger.spend(3, now: 10 + 2 * Self.second, evicted: &evicted) == .wait(fetch: 4))
    }

    @Test func aFailedFetchLetsTheNextRequestTryAgain() {
        var ledger = LeaseLedger(leaseSize: 4, idleReturn: Self.second, maxKeys: 100)
        var evicted: (key: UInt64, tokens: Int)?
        _ = ledger.spend(3, now: 0, evicted: &evicted)
        ledger.failed(3)
        #expect(ledger.spend(3, now: 1, evicted: &evicted) == .wait(fetch: 4))
    }

    @Test func idleLeasesGoBackAndFetchingOnesStay() {
        var ledger = LeaseLedger(leaseSize: 10, idleReturn: Self.second, maxKeys: 100)
        var evicted: (key: UInt64, tokens: Int)?
        _ = ledger.spend(1, now: 0, evicted: &evicted)
        ledger.granted(1, count: 10, retryAfter: 0, storeRemaining: [0], now: 0)
        _ = ledger.spend(2, now: 0, evicted: &evicted)  // still fetching
        #expect(ledger.expire(now: Self.second - 1).isEmpty)
        let returned = ledger.expire(now: Self.second)
        #expect(returned.map(\.key) == [1] && returned.map(\.tokens) == [10])
        #expect(ledger.entry(1) == nil && ledger.entry(2) != nil)
    }

    @Test func aFullLedgerEvictsTheLeastRecentlyUsedOfASampleAndReturnsItsTokens() {
        var ledger = LeaseLedger(leaseSize: 3, idleReturn: 100 * Self.second, maxKeys: 2)
        var evicted: (key: UInt64, tokens: Int)?
        for key: UInt64 in [1, 2] {
            _ = ledger.spend(key, now: key, evicted: &evicted)
            ledger.granted(key, count: 3, retryAfter: 0, storeRemaining: [0], now: key)
        }
        _ = ledger.spend(9, now: 5, evicted: &evicted)
        #expect(evicted?.key == 1 && evicted?.tokens == 3)
        #expect(ledger.entries.count == 2)
    }

    /// Three instances against one simulated shared store (a bucket of `limit` that refills
    /// one token every `refillEvery` steps); fetches are answered one step after they are
    /// asked, and only requests that waited take from a fetch. Over the run the instances
    /// admit exactly what the store granted minus what they still hold, within the stated
    /// bound: the store's allowance plus one lease per instance.
    @Test(arguments: [1, 7, 25])
    func instancesTogetherStayWithinTheLeaseBound(lease: Int) {
        let (limit, refillEvery, steps) = (100, 10, 3000)
        var store = limit
        var granted = 0
        var ledgers = (0..<3).map { _ in LeaseLedger(leaseSize: lease, idleReturn: 1_000_000 * Self.second, maxKeys: 10) }
        var admitted = 0
        var waiting = [0, 0, 0]
        var asked: [(instance: Int, count: Int)] = []
        var evicted: (key: UInt64, tokens: Int)?
        for step in 0..<steps {
            if step % refillEvery == 0, step > 0 { store = min(limit, store + 1) }
            let now = UInt64(step)
            // Last step's fetches are answered first, atomically, in order.
            let answering = asked
            asked.removeAll()
            for (instance, count) in answering {
                let grant = min(count, store)
                store -= grant
                granted += grant
                ledgers[instance].granted(1, count: grant, retryAfter: grant == 0 ? UInt64(refillEvery) : 0, storeRemaining: [store], now: now)
                while waiting[instance] > 0, ledgers[instance].spendAfterWait(1, now: now) {
                    waiting[instance] -= 1
                    admitted += 1
                }
                waiting[instance] = 0  // the rest are refused (or, in the proxy, wait on the next fetch)
            }
            let instance = step % 3
            switch ledgers[instance].spend(1, now: now, evicted: &evicted) {
            case .allowed(let refill):
                admitted += 1
                if let refill { asked.append((instance, refill)) }
            case .wait(let fetch):
                waiting[instance] += 1
                if let fetch { asked.append((instance, fetch)) }
            case .refused:
                break
            }
            #expect(ledgers.allSatisfy { ($0.entry(1)?.tokens ?? 0) <= lease })
        }
        let held = ledgers.map { $0.entry(1)?.tokens ?? 0 }.reduce(0, +)
        let allowance = limit + (steps - 1) / refillEvery
        #expect(admitted + held == granted, "every granted token is spent or still held")
        #expect(granted <= allowance)
        #expect(admitted <= allowance + lease * 3)
        #expect(admitted >= allowance - lease * 3, "the instances are not starved by their own leases: \(admitted) of \(allowance)")
    }
}
