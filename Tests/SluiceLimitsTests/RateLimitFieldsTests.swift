import SluiceLimits
import Testing

@Suite struct RateLimitFieldsTests {
    @Test func thePolicyFieldListsEveryTier() {
        #expect(RateLimitFields.policy(policy(.tokenBucket, [tier(1, per: 1), tier(5, per: 10)]))
            == #""api-1s";q=1;w=1, "api-10s";q=5;w=10"#)
        #expect(RateLimitFields.policy(policy(.slidingWindow, threeTiers))
            == #""api-1s";q=1;w=1, "api-10s";q=5;w=10, "api-1m";q=10;w=60"#)
        #expect(RateLimitFields.policy(policy(.gcra, [tier(1_000, per: 86_400)], name: "daily"))
            == #""daily-24h";q=1000;w=86400"#)
    }

    @Test func windowsAreNamedInTheirLargestWholeUnitAndRoundedUpToASecond() {
        let tiers = [
            LimitTier(limit: 3, window: 500 * millisecond),
            LimitTier(limit: 4, window: 1_500 * millisecond),
            LimitTier(limit: 9, window: 7_200 * second),
            LimitTier(limit: 2, window: 1_234),
        ]
        #expect(RateLimitFields.policy(policy(.gcra, tiers))
            == #""api-500ms";q=3;w=1, "api-1500ms";q=4;w=2, "api-2h";q=9;w=7200, "api-1234ns";q=2;w=1"#)
    }

    @Test func tiersSharingAWindowAlsoCarryTheirIndex() {
        let tiers = [tier(2, per: 1), tier(10, per: 60), tier(3, per: 1, burst: 1)]
        #expect(RateLimitFields.policy(policy(.tokenBucket, tiers))
            == #""api-1s-0";q=2;w=1, "api-1m";q=10;w=60, "api-1s-2";q=3;w=1"#)
    }

    @Test func namesAreValidStructuredFieldStrings() {
        #expect(RateLimitFields.quoted(#"a"b\c"#) == #""a\"b\\c""#)
        #expect(RateLimitFields.quoted("tenant ünï\t") == #""tenant _n__""#)
        #expect(RateLimitFields.policy(policy(.gcra, [tier(1, per: 1)], name: #"x"y"#)) == #""x\"y-1s";q=1;w=1"#)
    }

    @Test func theRateLimitFieldReportsTheClosestTier() {
        let policy = policy(.tokenBucket, threeTiers)
        var state = LimitState()
        var decision = policy.decide(state: &state, now: 0)
        // 0 left of 1 per second, full again in 1 s.
        #expect(RateLimitFields.rateLimit(decision, policy: policy) == #""api-1s";r=0;t=1"#)
        for t in UInt64(1)...9 { decision = policy.decide(state: &state, now: t * second) }
        // At 9 s, refused: the 10 s tier has half a token and is 9 s from full.
        #expect(!decision.allowed)
        #expect(RateLimitFields.rateLimit(decision, policy: policy) == #""api-10s";r=0;t=9"#)
        #expect(RateLimitFields.retryAfter(decision) == "1")
    }

    @Test func secondsRoundUp() {
        var decision = LimitDecision(allowed: false, retryAfter: 3 * second, tierCount: 2, closestTier: 1)
        decision.setTier(1, remaining: 0, resetAfter: 6 * second + 1)
        let policy = policy(.tokenBucket, [tier(1, per: 1), tier(5, per: 10)])
        #expect(RateLimitFields.rateLimit(decision, policy: policy) == #""api-10s";r=0;t=7"#)
        #expect(RateLimitFields.retryAfter(decision) == "3")
        decision.retryAfter = 3 * second + 1
        #expect(RateLimitFields.retryAfter(decision) == "4")
        decision.retryAfter = 1
        #expect(RateLimitFields.retryAfter(decision) == "1")
        decision.retryAfter = .max
        #expect(RateLimitFields.retryAfter(decision) == nil)
        #expect(RateLimitFields.retryAfter(LimitDecision(allowed: true, retryAfter: 0, tierCount: 1)) == nil)
        #expect(RateLimitFields.seconds(roundingUp: 0) == 0)
        #expect(RateLimitFields.seconds(roundingUp: second) == 1)
    }
}
