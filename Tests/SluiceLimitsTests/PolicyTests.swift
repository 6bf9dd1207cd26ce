import SluiceLimits
import Testing

/// 1 per second, 5 per 10 seconds, 10 per minute.
let threeTiers = [tier(1, per: 1), tier(5, per: 10), tier(10, per: 60)]

@Suite struct PolicyTests {
    /// One request a second for 70 s. Worked by hand: the 10 s tier (½ a token a second)
    /// empties at 8 s and then admits every other second; the minute tier (⅙ a second)
    /// runs dry after 14 s and from then on admits one every 6 s. The 1 s tier always has
    /// its token.
    @Test(arguments: [RateAlgorithm.tokenBucket, .gcra])
    func threeBucketTiersOverSeventySeconds(_ algorithm: RateAlgorithm) {
        let policy = policy(algorithm, threeTiers)
        var state = LimitState()
        var admitted: [UInt64] = []
        for t in UInt64(0)..<70 {
            let decision = policy.decide(state: &state, now: t * second)
            if decision.allowed { admitted.append(t) }
            switch t {
            case 16:
                // Refused by the minute tier alone: the 10 s tier keeps its token.
                #expect(!decision.allowed && decision.remaining(0) == 1 && decision.remaining(1) == 1)
                #expect(decision.retryAfter == 2 * second)
            case 17:
                #expect(decision.remaining(1) == 1)   // 1½ tokens: nothing was taken at 16 s
            case 69:
                #expect(!decision.allowed)
                #expect((0..<3).map(decision.remaining) == [1, 5, 0])
                #expect(decision.closestTier == 2)
                #expect(decision.retryAfter == 3 * second)
                #expect(decision.resetAfter(2) == 57 * second)
            default: break
            }
        }
        #expect(admitted == Array(0...8) + [10, 12, 14, 18, 24, 30, 36, 42, 48, 54, 60, 66])
    }

    /// A request every 250 ms for 70 s against the sliding window, checked against a model
    /// that keeps every admission and recounts the fixed windows each time.
    @Test func threeSlidingWindowTiersOverSeventySeconds() {
        let policy = policy(.slidingWindow, threeTiers)
        var state = LimitState()
        var admittedAt: [UInt64] = []   // milliseconds
        var admittedCount = 0
        for step in UInt64(0)..<280 {
            let now = step * 250
            let expected = threeTiers.allSatisfy { tier in
                let window = tier.window / millisecond
                let index = now / window
                let current = admittedAt.filter { $0 / window == index }.count
                let previous = index == 0 ? 0 : admittedAt.filter { $0 / window == index - 1 }.count
                let elapsed = now - index * window
                return UInt64(previous) * (window - elapsed) + UInt64(current + 1) * window <= UInt64(tier.limit) * window
            }
            let decision = policy.decide(state: &state, now: now * millisecond)
            #expect(decision.allowed == expected, "at \(now) ms")
            if expected { admittedAt.append(now) }
            if decision.allowed { admittedCount += 1 }
        }
        // By hand: the 1 s tier lets every other second through (the previous second still
        // weighs); the 10 s tier is full at 8 s, and its 5 weigh ≤ 4 − current from 12 s on;
        // the minute tier is full at 20 s, and its 10 weigh ≤ 9 from 66 s.
        #expect(admittedAt == [0, 2, 4, 6, 8, 12, 14, 16, 18, 20, 66].map { $0 * 1_000 })
        #expect(admittedCount == admittedAt.count)
    }

    @Test(arguments: RateAlgorithm.allCases)
    func aRefusedRequestSpendsInNoTier(_ algorithm: RateAlgorithm) {
        let policy = policy(algorithm, [tier(10, per: 1), tier(2, per: 60)])
        var state = LimitState()
        #expect(policy.decide(state: &state, now: 0).allowed)
        #expect(policy.decide(state: &state, now: 0).allowed)
        let before = state
        let refused = policy.decide(state: &state, now: 0)
        #expect(!refused.allowed)
        #expect(state == before)
        #expect(refused.remaining(0) == 8 && refused.remaining(1) == 0)
        #expect(refused.closestTier == 1)
    }

    @Test func retryAfterIsTheLongestWaitOfTheRefusingTiers() {
        let policy = policy(.tokenBucket, [tier(1, per: 1), tier(2, per: 10)])
        var state = LimitState()
        #expect(policy.decide(state: &state, now: 0).allowed)
        #expect(policy.decide(state: &state, now: second).allowed)
        // At 1.5 s: the 1 s tier needs 0.5 s more, the 10 s tier 5 s − 1.5 s = 3.5 s.
        let refused = policy.decide(state: &state, now: 1_500 * millisecond)
        #expect(!refused.allowed && refused.retryAfter == 3_500 * millisecond)
        #expect(!policy.decide(state: &state, now: 5 * second - 1).allowed)
        #expect(policy.decide(state: &state, now: 5 * second).allowed)
    }

    @Test func theClosestTierOnATieIsTheLongerWindow() {
        let policy = policy(.tokenBucket, [tier(3, per: 1), tier(3, per: 60), tier(5, per: 10)])
        var state = LimitState()
        let decision = policy.decide(state: &state, now: 0)
        #expect((0..<3).map(decision.remaining) == [2, 2, 4])
        #expect(decision.closestTier == 1)
    }

    @Test(arguments: RateAlgorithm.allCases)
    func takeUpToGrantsWhatEveryTierAllows(_ algorithm: RateAlgorithm) {
        let policy = policy(algorithm, [tier(10, per: 1), tier(4, per: 60)])
        var state = LimitState()
        #expect(policy.take(state: &state, upTo: 3, now: 0) == 3)
        #expect(policy.take(state: &state, upTo: 3, now: 0) == 1)
        #expect(policy.take(state: &state, upTo: 3, now: 0) == 0)
        policy.giveBack(state: &state, count: 2, now: 0)
        let report = policy.decide(state: &state, cost: 0, now: 0)
        #expect(report.allowed && report.remaining(0) == 8 && report.remaining(1) == 2)
        policy.giveBack(state: &state, count: 50, now: 0)
        let full = policy.decide(state: &state, cost: 0, now: 0)
        #expect(full.remaining(0) == 10 && full.remaining(1) == 4)
    }

    @Test func aCostNoTierCanEverHoldNeverPasses() {
        let policy = policy(.gcra, [tier(5, per: 1)])
        var state = LimitState()
        let decision = policy.decide(state: &state, cost: 6, now: 0)
        #expect(!decision.allowed && decision.retryAfter == .max)
        #expect(state.isFresh)
    }

    @Test func invalidPoliciesAreRefused() {
        #expect(throws: LimitPolicyError.tierCount(0)) { try LimitPolicy(name: "x", algorithm: .gcra, tiers: []) }
        #expect(throws: LimitPolicyError.tierCount(5)) {
            try LimitPolicy(name: "x", algorithm: .gcra, tiers: Array(repeating: tier(1, per: 1), count: 5))
        }
        #expect(throws: LimitPolicyError.invalidTier(index: 1, reason: "limit must be at least 1")) {
            try LimitPolicy(name: "x", algorithm: .tokenBucket, tiers: [tier(1, per: 1), tier(0, per: 1)])
        }
        #expect(throws: LimitPolicyError.invalidTier(index: 0, reason: "window must be greater than 0")) {
            try LimitPolicy(name: "x", algorithm: .slidingWindow, tiers: [LimitTier(limit: 1, window: 0)])
        }
        #expect(throws: LimitPolicyError.invalidTier(index: 0, reason: "burst must be at least 1")) {
            try LimitPolicy(name: "x", algorithm: .gcra, tiers: [tier(1, per: 1, burst: 0)])
        }
        #expect(throws: (any Error).self) {
            try LimitPolicy(name: "x", algorithm: .tokenBucket, tiers: [tier(1, per: 86_400, burst: 1 << 40)])
        }
    }

    @Test func stateWordsAndIdleTimes() {
        #expect(policy(.gcra, threeTiers).stateWordCount == 3)
        #expect(policy(.tokenBucket, threeTiers).stateWordCount == 6)
        #expect(policy(.slidingWindow, threeTiers).stateWordCount == 6)
        #expect(policy(.tokenBucket, threeTiers).idleAfter == 60 * second)
        #expect(policy(.gcra, [tier(1, per: 1, burst: 90)]).idleAfter == 90 * second)
        #expect(policy(.slidingWindow, threeTiers).idleAfter == 120 * second)
    }
}
