import NIOCore
import SluiceLimits

/// What one `acquire` got.
public struct RateLease: Sendable, Equatable {
    /// Tokens granted, 0...want: the most that every tier allowed, taken from all of them.
    public var granted: Int
    /// When `granted` is 0: milliseconds until one token would pass every tier (Retry-After).
    /// Otherwise 0.
    public var retryAfterMilliseconds: Int
    /// Whole tokens each tier has left after the call, in the order of the tiers.
    public var remaining: [Int]

    public init(granted: Int, retryAfterMilliseconds: Int, remaining: [Int]) {
        self.granted = granted
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.remaining = remaining
    }
}

/// Rate-limit state shared by every Sluice instance through one Redis: instances lease
/// tokens in batches (`acquire`) and return what they did not use (`giveBack`). Each call is
/// one atomic script on one hash key (`<prefix><algorithm>:<key>`, so it also works on a
/// Redis Cluster), timed by the server's clock. Windows are kept in whole microseconds.
public final class RedisLimitStore: Sendable {
    public let client: RedisClient
    public let keyPrefix: String

    public init(client: RedisClient, keyPrefix: String = "sluice:rl:") {
        self.client = client
        self.keyPrefix = keyPrefix
    }

    /// The Redis key holding `key`'s state under `algorithm`.
    public func redisKey(_ key: String, algorithm: RateAlgorithm) -> String {
        "\(keyPrefix)\(algorithm.rawValue):\(key)"
    }

    /// Takes up to `want` tokens from every tier at once (all tiers give the same number).
    public func acquire(key: String, algorithm: RateAlgorithm, tiers: [LimitTier], want: Int, timeout: TimeAmount? = nil) -> EventLoopFuture<RateLease> {
        acquire(key: key, algorithm: algorithm, tiers: tiers, want: want, timeout: timeout, nowMicroseconds: nil)
    }

    /// Returns `count` unused tokens to every tier (never past a full bucket or below a zero
    /// count). Answers the whole tokens each tier has afterwards.
    public func giveBack(key: String, algorithm: RateAlgorithm, tiers: [LimitTier], count: Int, timeout: TimeAmount? = nil) -> EventLoopFuture<[Int]> {
        giveBack(key: key, algorithm: algorithm, tiers: tiers, count: count, timeout: timeout, nowMicroseconds: nil)
    }

    /// `nowMicroseconds` replaces the server's clock: only for tests of the arithmetic. The key
    /// then gets no TTL (Redis would expire it by real time, which that clock does not follow).
    func acquire(key: String, algorithm: RateAlgorithm, tiers: [LimitTier], want: Int, timeout: TimeAmount?, nowMicroseconds: UInt64?) -> EventLoopFuture<RateLease> {
        call("acquire", key: key, algorithm: algorithm, tiers: tiers, count: want, timeout: timeout, now: nowMicroseconds)
            .map { RateLease(granted: $0[0], retryAfterMilliseconds: $0[1], remaining: Array($0.dropFirst(2))) }
    }

    func giveBack(key: String, algorithm: RateAlgorithm, tiers: [LimitTier], count: Int, timeout: TimeAmount?, nowMicroseconds: UInt64?) -> EventLoopFuture<[Int]> {
        call("release", key: key, algorithm: algorithm, tiers: tiers, count: count, timeout: timeout, now: nowMicroseconds)
            .map { Array($0.dropFirst(2)) }
    }

    private func call(
        _ op: String, key: String, algorithm: RateAlgorithm, tiers: [LimitTier], count: Int, timeout: TimeAmount?, now: UInt64?
    ) -> EventLoopFuture<[Int]> {
        let eventLoop = client.anyEventLoop
        guard !tiers.isEmpty, count >= 0 else {
            return eventLoop.makeFailedFuture(RedisError.invalidArgument("need at least one tier and a count of 0 or more (got \(tiers.count) tiers, count \(count))"))
        }
        if let bad = tiers.first(where: { $0.limit < 1 || $0.window == 0 || $0.capacity < 1 }) {
            return eventLoop.makeFailedFuture(RedisError.invalidArgument("tier \(bad) needs limit, window and capacity above 0"))
        }
        var arguments = [op, algorithm.rawValue, String(count), now.map { String($0) } ?? ""]
        for tier in tiers {
            arguments += [String(tier.limit), String(max(1, tier.window / 1000)), String(tier.capacity)]
        }
        let expected = tiers.count + 2
        return client.run(RateLimitScript.script, keys: [redisKey(key, algorithm: algorithm)], arguments: arguments, timeout: timeout)
            .flatMapThrowing { reply in
                guard let values = reply.array?.compactMap(\.int), values.count == expected else {
                    throw RedisError.unexpectedReply("rate-limit script answered \(reply)")
                }
                return values
            }
    }
}
