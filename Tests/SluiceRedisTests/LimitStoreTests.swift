import NIOCore
import SluiceLimits
import SluiceTestSupport
import Testing
@testable import SluiceRedis

/// `RedisLimitStore` on the server's own clock: grants, refusal and refill, clients racing on
/// one key, the script cache flushed under it, AUTH and SELECT, and a paused server.
/// Serialized: each test starts its own server.
@Suite(.serialized) struct LimitStoreTests {
    /// So long that nothing refills while a test runs, and no fixed window ends in it
    /// (windows start at multiples of a year since the epoch).
    static let year: UInt64 = 365 * 24 * 3600 * 1_000_000_000

    @Test(arguments: RateAlgorithm.allCases)
    func grantsExactlyThenRefusesWithARetryTime(_ algorithm: RateAlgorithm) async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let client = server.client()
            let store = RedisLimitStore(client: client)
            let tier = [LimitTier(limit: 5, window: Self.year)]
            func acquire(_ want: Int) async throws -> RateLease {
                try await store.acquire(key: "user", algorithm: algorithm, tiers: tier, want: want, timeout: patientTimeout).get()
            }
            #expect(try await acquire(3) == RateLease(granted: 3, retryAfterMilliseconds: 0, remaining: [2]))
            #expect(try await acquire(3) == RateLease(granted: 2, retryAfterMilliseconds: 0, remaining: [0]))
            let refused = try await acquire(1)
            #expect(refused.granted == 0)
            #expect(refused.remaining == [0])
            // A token refills every fifth of a year (the sliding window waits for its window to end).
            let fifth = Int(Self.year / 5_000_000)
            if algorithm == .slidingWindow {
                #expect(refused.retryAfterMilliseconds > 0 && refused.retryAfterMilliseconds <= 2 * 5 * fifth)
            } else {
                #expect(refused.retryAfterMilliseconds > fifth - 60_000 && refused.retryAfterMilliseconds <= fifth)
            }
            #expect(try await store.giveBack(key: "user", algorithm: algorithm, tiers: tier, count: 2, timeout: patientTimeout).get() == [2])
            #expect(try await acquire(5).granted == 2)
            try await client.shutdown().get()
        }
    }

    @Test(arguments: RateAlgorithm.allCases)
    func refusedRequestsPassAgainOnceTheRetryTimeHasGone(_ algorithm: RateAlgorithm) async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let client = server.client()
            let store = RedisLimitStore(client: client)
            // A token every 100 ms: to be refused takes two calls within that, even on a loaded machine.
            let tier = [LimitTier(limit: 10, window: 1_000_000_000)]
            func acquire() async throws -> RateLease {
                try await store.acquire(key: "burst", algorithm: algorithm, tiers: tier, want: 10, timeout: patientTimeout).get()
            }
            var lease = try await acquire()
            var calls = 1
            while lease.granted > 0, calls < 100 {
                lease = try await acquire()
                calls += 1
            }
            #expect(lease.granted == 0, "not refused in \(calls) calls: \(lease)")
            #expect(lease.retryAfterMilliseconds >= 1 && lease.retryAfterMilliseconds <= 2000, "\(lease)")
            #expect(await eventually { (try? await acquire())?.granted ?? 0 > 0 })
            try await client.shutdown().get()
        }
    }

    @Test(arguments: RateAlgorithm.allCases)
    func racingClientsAdmitExactlyTheLimit(_ algorithm: RateAlgorithm) async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let clients = (0..<4).map { _ in server.client() }
            let tiers = [LimitTier(limit: 100, window: Self.year), LimitTier(limit: 1000, window: Self.year)]
            let total = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<12 {
                    let store = RedisLimitStore(client: clients[worker % clients.count])
                    group.addTask {
                        var admitted = 0
                        while true {
                            let lease = try await store.acquire(key: "shared", algorithm: algorithm, tiers: tiers, want: 1 + worker % 3, timeout: patientTimeout).get()
                            if lease.granted == 0 { return admitted }
                            admitted += lease.granted
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(total == 100)
            let store = RedisLimitStore(client: clients[0])
            let after = try await store.acquire(key: "shared", algorithm: algorithm, tiers: tiers, want: 1, timeout: patientTimeout).get()
            #expect(after.granted == 0)
            #expect(after.remaining == [0, 900])
            for client in clients { try await client.shutdown().get() }
        }
    }

    @Test func recoversFromAFlushedScriptCache() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let client = server.client()
            let store = RedisLimitStore(client: client)
            let tier = [LimitTier(limit: 3, window: Self.year)]
            #expect(try await store.acquire(key: "k", algorithm: .gcra, tiers: tier, want: 1, timeout: patientTimeout).get().granted == 1)
            _ = try await client.execute(RedisCommand("SCRIPT", "FLUSH"), timeout: patientTimeout)
            #expect(try await store.acquire(key: "k", algorithm: .gcra, tiers: tier, want: 5, timeout: patientTimeout).get().granted == 2)
            try await client.shutdown().get()
        }
    }

    @Test func stateLivesInTheConfiguredDatabaseBehindAuth() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start(["--requirepass", "pw"])
            let client = RedisClient(configuration: try .patient("redis://:pw@127.0.0.1:\(server.port)/7"), group: redisTestGroup)
            let store = RedisLimitStore(client: client, keyPrefix: "test:")
            let tier = [LimitTier(limit: 3, window: Self.year)]
            #expect(try await store.acquire(key: "k", algorithm: .tokenBucket, tiers: tier, want: 1, timeout: patientTimeout).get().granted == 1)
            let observer = try await server.connection(server.configuration(password: "pw", database: 7))
            #expect(try await observer.execute(RedisCommand("EXISTS", "test:token_bucket:k")) == .integer(1))
            _ = try await observer.execute(RedisCommand("SELECT", "0"))
            #expect(try await observer.execute(RedisCommand("DBSIZE")) == .integer(0))
            try await client.shutdown().get()
        }
    }

    @Test func pausedServerFailsTheLeaseWithinTheTimeout() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let timeout = TimeAmount.milliseconds(200)
            let client = server.client(server.configuration(commandTimeout: timeout))
            let store = RedisLimitStore(client: client)
            let tier = [LimitTier(limit: 3, window: Self.year)]
            // Loaded once, so the paused call is a single EVALSHA.
            _ = try await store.acquire(key: "k", algorithm: .gcra, tiers: tier, want: 1, timeout: patientTimeout).get()
            server.pause()
            defer { server.resume() }
            let (seconds, error) = await timed(within: 0.2 + loadSlack) {
                _ = try await store.acquire(key: "k", algorithm: .gcra, tiers: tier, want: 1).get()
            }
            #expect(error as? RedisError == .timeout, "\(String(describing: error))")
            #expect(seconds < 0.2 + loadSlack, "took \(seconds)s")
            try await client.shutdown().get()
        }
    }
}
