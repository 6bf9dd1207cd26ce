import NIOCore
import SluiceLimits
import SluiceTestSupport
import Testing
@testable import SluiceRedis

/// The lease script's arithmetic on a real redis-server, with the clock given by the test
/// (the script's override of `TIME`) so that every grant, remainder and retry is exact.
/// Serialized: each test starts its own server, and no other test may use it (keys repeat).
@Suite(.serialized) struct LimitArithmeticTests {
    static let second: UInt64 = 1_000_000_000
    /// A whole hour in µs since the epoch: every fixed window of the tests starts here.
    static let t0: UInt64 = 472_222 * 3_600_000_000
    static let ms: UInt64 = 1000

    struct Store {
        let server: RedisServerProcess
        let client: RedisClient
        let store: RedisLimitStore

        static func start() async throws -> Store {
            let server = try await RedisServerProcess.start()
            let client = server.client()
            return Store(server: server, client: client, store: RedisLimitStore(client: client))
        }

        func acquire(_ algorithm: RateAlgorithm, _ tiers: [LimitTier], want: Int, at now: UInt64, key: String = "k") async throws -> RateLease {
            try await store.acquire(key: key, algorithm: algorithm, tiers: tiers, want: want, timeout: patientTimeout, nowMicroseconds: now).get()
        }

        func giveBack(_ algorithm: RateAlgorithm, _ tiers: [LimitTier], count: Int, at now: UInt64, key: String = "k") async throws -> [Int] {
            try await store.giveBack(key: key, algorithm: algorithm, tiers: tiers, count: count, timeout: patientTimeout, nowMicroseconds: now).get()
        }

        func stop() async throws { try await client.shutdown().get() }
    }

    static func lease(_ granted: Int, _ retry: Int, _ remaining: [Int]) -> RateLease {
        RateLease(granted: granted, retryAfterMilliseconds: retry, remaining: remaining)
    }

    // Token bucket and GCRA make the same promise, so they must give the same answers.
    @Test(arguments: [RateAlgorithm.tokenBucket, .gcra])
    func bucketGrantsPartiallyRefusesRefillsAndTakesBack(_ algorithm: RateAlgorithm) async throws {
        try await withTestDeadline {
            let s = try await Store.start()
            let tier = [LimitTier(limit: 10, window: Self.second)]
            let t0 = Self.t0
            #expect(try await s.acquire(algorithm, tier, want: 4, at: t0) == Self.lease(4, 0, [6]))
            #expect(try await s.acquire(algorithm, tier, want: 10, at: t0) == Self.lease(6, 0, [0]))
            // One token refills every 100 ms.
            #expect(try await s.acquire(algorithm, tier, want: 1, at: t0) == Self.lease(0, 100, [0]))
            #expect(try await s.acquire(algorithm, tier, want: 1, at: t0 + 40 * Self.ms) == Self.lease(0, 60, [0]))
            #expect(try await s.acquire(algorithm, tier, want: 5, at: t0 + 250 * Self.ms) == Self.lease(2, 0, [0]))
            #expect(try await s.giveBack(algorithm, tier, count: 3, at: t0 + 250 * Self.ms) == [3])
            // Never above a full bucket.
            #expect(try await s.giveBack(algorithm, tier, count: 100, at: t0 + 250 * Self.ms) == [10])
            #expect(try await s.acquire(algorithm, tier, want: 11, at: t0 + 250 * Self.ms) == Self.lease(10, 0, [0]))
            try await s.stop()
        }
    }

    @Test(arguments: [RateAlgorithm.tokenBucket, .gcra])
    func burstIsTheCapacity(_ algorithm: RateAlgorithm) async throws {
        try await withTestDeadline {
            let s = try await Store.start()
            let tier = [LimitTier(limit: 10, window: Self.second, burst: 20)]
            #expect(try await s.acquire(algorithm, tier, want: 25, at: Self.t0) == Self.lease(20, 0, [0]))
            #expect(try await s.acquire(algorithm, tier, want: 1, at: Self.t0) == Self.lease(0, 100, [0]))
            // A long idle time refills to the burst, no further.
            #expect(try await s.acquire(algorithm, tier, want: 0, at: Self.t0 + 60 * 1_000_000) == Self.lease(0, 0, [20]))
            try await s.stop()
        }
    }

    @Test(arguments: [RateAlgorithm.tokenBucket, .gcra])
    func everyTierMustAllowAndAllArePaidAtOnce(_ algorithm: RateAlgorithm) async throws {
        try await withTestDeadline {
            let s = try await Store.start()
            let tiers = [LimitTier(limit: 10, window: Self.second), LimitTier(limit: 15, window: 3600 * Self.second)]
            let t1 = Self.t0 + 1_000_000
            #expect(try await s.acquire(algorithm, tiers, want: 12, at: Self.t0) == Self.lease(10, 0, [0, 5]))
            #expect(try await s.acquire(algorithm, tiers, want: 12, at: t1) == Self.lease(5, 0, [5, 0]))
            // The hourly tier refuses (a token every 240 s, 1 s of it gone); the first keeps its 5.
            #expect(try await s.acquire(algorithm, tiers, want: 1, at: t1) == Self.lease(0, 239_000, [5, 0]))
            #expect(try await s.giveBack(algorithm, tiers, count: 2, at: t1) == [7, 2])
            try await s.stop()
        }
    }

    @Test func slidingWindowWeighsThePreviousWindow() async throws {
        try await withTestDeadline {
            let s = try await Store.start()
            let tier = [LimitTier(limit: 10, window: Self.second)]
            let t0 = Self.t0
            #expect(try await s.acquire(.slidingWindow, tier, want: 4, at: t0) == Self.lease(4, 0, [6]))
            #expect(try await s.acquire(.slidingWindow, tier, want: 10, at: t0) == Self.lease(6, 0, [0]))
            // Full: the next window starts with this one weighted 1, falling to 0.9 after 100 ms.
            #expect(try await s.acquire(.slidingWindow, tier, want: 1, at: t0) == Self.lease(0, 1100, [0]))
            let mid = t0 + 1_500_000
            #expect(try await s.acquire(.slidingWindow, tier, want: 10, at: mid) == Self.lease(5, 0, [0]))
            // 10 × 0.5 + 5 = 10; at 0.4 weight (100 ms on) it is 9.
            #expect(try await s.acquire(.slidingWindow, tier, want: 1, at: mid) == Self.lease(0, 100, [0]))
            #expect(try await s.giveBack(.slidingWindow, tier, count: 2, at: mid) == [2])
            // Never below a zero count.
            #expect(try await s.giveBack(.slidingWindow, tier, count: 100, at: mid) == [5])
            // A whole window without requests forgets everything.
            #expect(try await s.acquire(.slidingWindow, tier, want: 12, at: t0 + 3_000_000) == Self.lease(10, 0, [0]))
            try await s.stop()
        }
    }

    @Test func slidingWindowTiers() async throws {
        try await withTestDeadline {
            let s = try await Store.start()
            let tiers = [LimitTier(limit: 10, window: Self.second), LimitTier(limit: 15, window: 3600 * Self.second)]
            #expect(try await s.acquire(.slidingWindow, tiers, want: 12, at: Self.t0) == Self.lease(10, 0, [0, 5]))
            let t2 = Self.t0 + 2_000_000
            #expect(try await s.acquire(.slidingWindow, tiers, want: 12, at: t2) == Self.lease(5, 0, [5, 0]))
            // The hour is full: 3598 s to its end, then 14/15 of the next hour's weight must go.
            #expect(try await s.acquire(.slidingWindow, tiers, want: 1, at: t2) == Self.lease(0, 3_838_000, [5, 0]))
            try await s.stop()
        }
    }

    // On the server's clock (as in production): the TTL is real time, and so is that clock.
    @Test(arguments: RateAlgorithm.allCases)
    func keysExpireAfterTwiceTheLongestWindowAndAreSeparatePerKey(_ algorithm: RateAlgorithm) async throws {
        try await withTestDeadline {
            let s = try await Store.start()
            let tiers = [LimitTier(limit: 1, window: Self.second), LimitTier(limit: 5, window: 60 * Self.second)]
            #expect(try await s.store.acquire(key: "a", algorithm: algorithm, tiers: tiers, want: 1, timeout: patientTimeout).get().granted == 1)
            #expect(try await s.store.acquire(key: "b", algorithm: algorithm, tiers: tiers, want: 1, timeout: patientTimeout).get().granted == 1)
            let key = s.store.redisKey("a", algorithm: algorithm)
            #expect(key == "sluice:rl:\(algorithm.rawValue):a")
            let ttl = try await s.client.execute(RedisCommand("PTTL", key), timeout: patientTimeout).int ?? -1
            // More than the longest window (60 s), and no stall of the test can make it fail.
            #expect(ttl > 60_000 && ttl <= 120_000, "PTTL \(ttl)")
            try await s.stop()
        }
    }

    /// The tests' clock does not pass with Redis's, so it must not give the key a real-time
    /// TTL: with a 1 s window that was 2 s, and a test paused that long (a loaded machine)
    /// found its state gone, the bucket full again, in the middle of its arithmetic.
    @Test(arguments: RateAlgorithm.allCases)
    func aGivenClockLeavesTheKeyWithoutATTL(_ algorithm: RateAlgorithm) async throws {
        try await withTestDeadline {
            let s = try await Store.start()
            let tier = [LimitTier(limit: 10, window: Self.second)]
            #expect(try await s.acquire(algorithm, tier, want: 4, at: Self.t0).granted == 4)
            _ = try await s.giveBack(algorithm, tier, count: 1, at: Self.t0)
            let ttl = try await s.client.execute(RedisCommand("PTTL", s.store.redisKey("k", algorithm: algorithm)), timeout: patientTimeout)
            #expect(ttl == .integer(-1), "PTTL \(ttl) (-1: no TTL, -2: no key)")
            try await s.stop()
        }
    }

    @Test func rejectsArgumentsNoTierCouldUse() async throws {
        try await withTestDeadline {
            let s = try await Store.start()
            await #expect(throws: RedisError.self) { try await s.acquire(.gcra, [], want: 1, at: Self.t0) }
            await #expect(throws: RedisError.self) { try await s.acquire(.gcra, [LimitTier(limit: 0, window: 1)], want: 1, at: Self.t0) }
            await #expect(throws: RedisError.self) { try await s.acquire(.gcra, [LimitTier(limit: 1, window: Self.second)], want: -1, at: Self.t0) }
            try await s.stop()
        }
    }
}
