import SluiceBalancing
import SluiceLimits
import Testing

@Suite struct TokenBucketTests {
    @Test func aFullBurstThenRefusalThenRefillAtExactlyTheTokenTime() {
        let bucket = TokenBucket(tier(10, per: 1))
        var state = TokenBucket.State()
        for _ in 0..<10 { #expect(bucket.take(from: &state, now: 0)) }
        #expect(!bucket.take(from: &state, now: 0))
        #expect(bucket.status(of: state, now: 0) == TierStatus(remaining: 0, resetAfter: second, retryAfter: 100 * millisecond))
        #expect(!bucket.take(from: &state, now: 100 * millisecond - 1))
        #expect(bucket.take(from: &state, now: 100 * millisecond))
        #expect(bucket.remaining(in: state, now: second) == 9)
        #expect(bucket.remaining(in: state, now: 1_100 * millisecond) == 10)
        #expect(bucket.resetAfter(in: state, now: 1_100 * millisecond) == 0)
    }

    @Test func aThirdOfASecondIsKeptExactly() {
        // 3 per second: a token every 333,333,333⅓ ns.
        let bucket = TokenBucket(tier(3, per: 1))
        var state = TokenBucket.State()
        #expect(bucket.take(3, from: &state, now: 0))
        #expect(bucket.wait(for: 1, in: state, now: 0) == 333_333_334)
        #expect(bucket.resetAfter(in: state, now: 0) == second)
        #expect(bucket.remaining(in: state, now: second - 1) == 2)
        #expect(bucket.remaining(in: state, now: second) == 3)
    }

    @Test func noDriftOverThousandsOfRefills() {
        // Emptied at 0, 3/s: the k-th token is due at k/3 s, so a request taken as soon as it
        // passes passes at ⌈k/3 s⌉ exactly, never a nanosecond before; after 1,000 s the
        // bucket is still exactly 1 s from full.
        let bucket = TokenBucket(tier(3, per: 1))
        var state = TokenBucket.State()
        #expect(bucket.take(3, from: &state, now: 0))
        for k in UInt64(1)...3_000 {
            let due = (k * second + 2) / 3
            #expect(bucket.wait(for: 1, in: state, now: due - 1) == 1)
            #expect(bucket.take(from: &state, now: due))
        }
        #expect(bucket.resetAfter(in: state, now: 1_000 * second) == second)
    }

    @Test func aBurstLargerThanTheLimitRefillsOverLongerThanTheWindow() {
        let bucket = TokenBucket(tier(1, per: 1, burst: 5))
        var state = TokenBucket.State()
        #expect(bucket.take(5, from: &state, now: 0))
        #expect(!bucket.take(from: &state, now: 0))
        #expect(bucket.idleAfter == 5 * second)
        #expect(bucket.remaining(in: state, now: 5 * second) == 5)
    }

    @Test func takeUpToGrantsWhatThereIs() {
        let bucket = TokenBucket(tier(10, per: 1))
        var state = TokenBucket.State()
        #expect(bucket.take(upTo: 4, from: &state, now: 0) == 4)
        #expect(bucket.take(upTo: 10, from: &state, now: 0) == 6)
        #expect(bucket.take(upTo: 3, from: &state, now: 0) == 0)
        #expect(bucket.take(upTo: 5, from: &state, now: 250 * millisecond) == 2)
        #expect(bucket.take(upTo: -1, from: &state, now: second) == 0)
    }

    @Test func givingBackNeverOverfillsTheBucket() {
        let bucket = TokenBucket(tier(10, per: 1))
        var state = TokenBucket.State()
        #expect(bucket.take(10, from: &state, now: 0))
        bucket.giveBack(3, to: &state, now: 0)
        #expect(bucket.remaining(in: state, now: 0) == 3)
        bucket.giveBack(100, to: &state, now: 0)
        #expect(bucket.remaining(in: state, now: 0) == 10)
        #expect(bucket.resetAfter(in: state, now: 0) == 0)
        var fresh = TokenBucket.State()
        bucket.giveBack(5, to: &fresh, now: 7)
        #expect(fresh == TokenBucket.State())
    }

    @Test func aCostOverTheCapacityNeverPasses() {
        let bucket = TokenBucket(tier(10, per: 1))
        var state = TokenBucket.State()
        #expect(bucket.wait(for: 11, in: state, now: 0) == .max)
        #expect(!bucket.take(11, from: &state, now: 0))
        #expect(bucket.take(0, from: &state, now: 0))
        #expect(bucket.remaining(in: state, now: 0) == 10)
    }

    @Test func aClockBehindTheStateGivesNoExtraQuota() {
        let bucket = TokenBucket(tier(10, per: 1))
        var state = TokenBucket.State()
        #expect(bucket.take(10, from: &state, now: 5 * second))
        #expect(bucket.remaining(in: state, now: 4 * second) == 0)
        #expect(bucket.remaining(in: state, now: 0) == 0)
    }
}

@Suite struct GCRATests {
    @Test func theToleranceLetsExactlyTheBurstThroughFromEmpty() {
        let gcra = GCRA(tier(10, per: 1))
        #expect(gcra.emissionInterval == 100 * millisecond)
        #expect(gcra.tolerance == 900 * millisecond)
        var state = GCRA.State()
        for _ in 0..<10 { #expect(gcra.take(from: &state, now: 0)) }
        #expect(!gcra.take(from: &state, now: 0))
        #expect(gcra.status(of: state, now: 0) == TierStatus(remaining: 0, resetAfter: second, retryAfter: 100 * millisecond))
        #expect(!gcra.take(from: &state, now: 100 * millisecond - 1))
        #expect(gcra.take(from: &state, now: 100 * millisecond))
        #expect(gcra.remaining(in: state, now: 1_100 * millisecond) == 10)
    }

    @Test func burstAndLimitAreIndependent() {
        let gcra = GCRA(tier(2, per: 1, burst: 5))
        var state = GCRA.State()
        #expect(gcra.take(upTo: 9, from: &state, now: 0) == 5)
        #expect(gcra.wait(for: 1, in: state, now: 0) == 500 * millisecond)
        #expect(gcra.wait(for: 3, in: state, now: 0) == 1_500 * millisecond)
        #expect(gcra.wait(for: 6, in: state, now: 0) == .max)
        #expect(gcra.idleAfter == 2_500 * millisecond)
    }

    @Test func anIntervalThatIsNotWholeNanosecondsRoundsUp() {
        let gcra = GCRA(tier(3, per: 1))
        #expect(gcra.emissionInterval == 333_333_334)
        var state = GCRA.State()
        #expect(gcra.take(3, from: &state, now: 0))
        #expect(gcra.resetAfter(in: state, now: 0) == 1_000_000_002)
    }

    @Test func givingBackNeverGoesPastAFullBurst() {
        let gcra = GCRA(tier(10, per: 1))
        var state = GCRA.State()
        #expect(gcra.take(upTo: 6, from: &state, now: 0) == 6)
        gcra.giveBack(2, to: &state, now: 0)
        #expect(gcra.remaining(in: state, now: 0) == 6)
        gcra.giveBack(50, to: &state, now: 0)
        #expect(gcra.remaining(in: state, now: 0) == 10)
        #expect(gcra.resetAfter(in: state, now: 0) == 0)
    }

    @Test func admitsExactlyWhatTheTokenBucketAdmits() {
        // With T whole nanoseconds the two are the same contract; check it on a random stream.
        let tier = LimitTier(limit: 7, window: 700 * millisecond, burst: 4)
        let bucket = TokenBucket(tier)
        let gcra = GCRA(tier)
        var (bucketState, gcraState) = (TokenBucket.State(), GCRA.State())
        var random = SeededRandom(seed: 7)
        var now: UInt64 = 0
        for _ in 0..<5_000 {
            now += random.next() % (150 * millisecond)
            let cost = Int(random.next() % 3)
            #expect(bucket.take(cost, from: &bucketState, now: now) == gcra.take(cost, from: &gcraState, now: now))
            #expect(bucket.status(of: bucketState, now: now) == gcra.status(of: gcraState, now: now))
        }
    }
}
