import Testing
import SluiceBalancing

private let second: UInt64 = 1_000_000_000

/// Withdraws until the budget refuses, at most `limit` times; returns how many were allowed.
private func drain(_ budget: inout RetryBudget, now: UInt64, limit: Int = 10_000) -> Int {
    var allowed = 0
    while allowed < limit, budget.tryWithdrawRetry(now: now) { allowed += 1 }
    return allowed
}

@Suite struct RetryBudgetTests {
    @Test func allowsThePercentOfRequestsPlusTheFloorThenDenies() {
        var budget = RetryBudget(percent: 20, minRetriesPerSecond: 3, window: 10 * second)
        let start: UInt64 = 500 * second
        // 100 requests spread over the window's ten one-second buckets.
        for index in 0..<100 { budget.recordRequest(now: start + UInt64(index / 10) * second) }
        let now = start + 9 * second
        #expect(budget.requests(now: now) == 100)
        let allowed = drain(&budget, now: now)
        #expect(allowed == 20 + 30)
        let extra = budget.tryWithdrawRetry(now: now)
        #expect(!extra)
        #expect(budget.retries(now: now) == 50)
    }

    @Test func theFloorAloneAllowsMinRetriesPerSecondTimesTheWindow() {
        var budget = RetryBudget()
        #expect(budget.reserve == 30)
        let allowed = drain(&budget, now: 0)
        #expect(allowed == 30)
        let extra = budget.tryWithdrawRetry(now: 0)
        #expect(!extra)
    }

    @Test func oldBucketsAgeOutAndTheBudgetRefills() {
        var budget = RetryBudget(percent: 20, minRetriesPerSecond: 3, window: 10 * second)
        for _ in 0..<100 { budget.recordRequest(now: 0) }
        let first = drain(&budget, now: 0)
        #expect(first == 50)
        // Still the same window 9.9 s later.
        let late = budget.tryWithdrawRetry(now: 9 * second + 900_000_000)
        #expect(!late)
        // Once second 0 leaves the window its requests and retries are gone: the floor is back.
        #expect(budget.requests(now: 10 * second) == 0)
        #expect(budget.retries(now: 10 * second) == 0)
        let refilled = drain(&budget, now: 10 * second)
        #expect(refilled == 30)
    }

    @Test func retriesSpentEarlierInTheWindowStillCount() {
        var budget = RetryBudget(percent: 0, minRetriesPerSecond: 1, window: 10 * second)
        let first = drain(&budget, now: 0)
        #expect(first == 10)
        let midWindow = budget.tryWithdrawRetry(now: 5 * second)
        #expect(!midWindow)
        // Second 0's ten retries age out at 10 s.
        let afterWindow = budget.tryWithdrawRetry(now: 10 * second)
        #expect(afterWindow)
    }

    @Test func aLongIdleGapLeavesNoStaleCounts() {
        var budget = RetryBudget(percent: 50, minRetriesPerSecond: 0, window: 3 * second)
        for _ in 0..<10 { budget.recordRequest(now: 0) }
        #expect(budget.allowedRetries(now: 0) == 5)
        // 3 s, 7 s and 3 000 s later, same ring slot as second 0 but a different lap.
        #expect(budget.allowedRetries(now: 3 * second) == 0)
        #expect(budget.allowedRetries(now: 3_000 * second) == 0)
        let muchLater = budget.tryWithdrawRetry(now: 3_000 * second)
        #expect(!muchLater)
    }

    @Test func aZeroBudgetDeniesEveryRetry() {
        var budget = RetryBudget(percent: 0, minRetriesPerSecond: 0)
        for _ in 0..<1_000 { budget.recordRequest(now: 0) }
        let allowed = budget.tryWithdrawRetry(now: 0)
        #expect(!allowed)
    }
}
