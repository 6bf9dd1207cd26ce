import SluiceBalancing
import Synchronization

/// Per-key state for one policy, in this process, safe to share across threads.
///
/// - Keys are 64-bit hashes of the key text, hashed by the caller. Storing the hash, not the
///   text, is what keeps a key to a few dozen bytes; two keys collide (and share a quota)
///   with probability about n² / 2⁶⁵ over n keys, some 3 × 10⁻⁸ at a million.
/// - Sharded: the largest power of two up to 64 that leaves each shard 1,024 keys or more
///   (64 at the default cap), each shard its own table behind its own `Mutex`, so threads on
///   different keys rarely meet on a lock.
/// - Idle keys: a key unused for `policy.idleAfter` is equivalent to a fresh one. One found
///   idle starts over; each insert also sweeps two slots for idle keys, so they do not pile
///   up, and `sweep(now:)` clears them all (for a periodic timer). A fresh key is not stored
///   until it spends something.
/// - At most `maxKeys` keys (each shard holds `maxKeys / shardCount`). A new key arriving at a
///   full shard evicts by sampled LRU: of 8 occupied slots drawn with the shard's seeded
///   generator, the one seen longest ago (so an idle one, if any was drawn) goes. An evicted
///   key comes back fresh, so eviction can only be lenient: it never refuses a request that
///   keeping the key would have allowed.
public final class LocalLimitStore: Sendable {
    public let policy: LimitPolicy
    public let maxKeys: Int
    public let shardCount: Int
    private let shards: [Shard]
    private let shardMask: UInt64

    private final class Shard: Sendable {
        let table: Mutex<ShardTable>
        init(_ table: consuming sending ShardTable) { self.table = Mutex(table) }
    }

    public init(policy: LimitPolicy, maxKeys: Int = 1_000_000, seed: UInt64 = 0x243F_6A88_85A3_08D3) {
        let maxKeys = max(1, maxKeys)
        var shardCount = 1
        while shardCount < 64, shardCount * 2 * 1_024 <= maxKeys { shardCount *= 2 }
        var seeds = SplitMix64(seed: seed)
        self.policy = policy
        self.maxKeys = maxKeys
        self.shardCount = shardCount
        self.shardMask = UInt64(shardCount - 1)
        self.shards = (0..<shardCount).map { _ in
            Shard(ShardTable(stateWords: policy.stateWordCount, maxKeys: maxKeys / shardCount, seed: seeds.next()))
        }
    }

    /// `policy.decide` for the key: allowed only if every tier allows `cost`.
    public func decide(keyHash: UInt64, cost: Int = 1, now: UInt64) -> LimitDecision {
        update(keyHash, now: now) { policy.decide(state: &$0, cost: cost, now: now) }
    }

    /// Spends up to `n` for the key and returns how many it got (a lease).
    public func take(keyHash: UInt64, upTo n: Int, now: UInt64) -> Int {
        update(keyHash, now: now) { policy.take(state: &$0, upTo: n, now: now) }
    }

    /// Returns `count` unused requests of a lease, never past the full quota.
    public func giveBack(keyHash: UInt64, count: Int, now: UInt64) {
        update(keyHash, now: now) { policy.giveBack(state: &$0, count: count, now: now) }
    }

    /// Removes every idle key; returns how many.
    @discardableResult
    public func sweep(now: UInt64) -> Int {
        shards.reduce(0) { removed, shard in
            removed + shard.table.withLock { $0.sweep(now: now, idleAfter: policy.idleAfter) }
        }
    }

    /// Keys tracked now (idle ones not yet swept included).
    public var count: Int {
        shards.reduce(0) { $0 + $1.table.withLock { $0.count } }
    }

    /// Bytes the tables hold, from their arrays' real capacity.
    public var bytes: Int {
        shards.reduce(0) { $0 + $1.table.withLock { $0.bytes } }
    }

    /// `bytes` over the keys tracked: 16 + 8 × `policy.stateWordCount` bytes a slot, at
    /// 3/8 to 3/4 of the slots used.
    public var bytesPerKey: Double {
        Double(bytes) / Double(max(1, count))
    }

    /// The table key for a caller's hash: mixed (a bijection, so distinct hashes stay
    /// distinct) so that weak hashes spread over shards and slots; 0 marks an empty slot, so
    /// a hash mixing to 0 is stored as 1.
    static func storedKey(_ keyHash: UInt64) -> UInt64 {
        var mixed = keyHash
        mixed ^= mixed >> 33
        mixed &*= 0xFF51_AFD7_ED55_8CCD
        mixed ^= mixed >> 33
        mixed &*= 0xC4CE_B9FE_1A85_EC53
        mixed ^= mixed >> 33
        return mixed == 0 ? 1 : mixed
    }

    @inline(__always)
    private func update<Result: Sendable>(
        _ keyHash: UInt64, now: UInt64, _ body: (inout LimitState) -> Result
    ) -> Result {
        let key = Self.storedKey(keyHash)
        let idleAfter = policy.idleAfter
        return shards[Int(key & shardMask)].table.withLock { table in
            let (slot, found) = table.find(key)
            if found {
                var state = table.isIdle(slot, now: now, idleAfter: idleAfter) ? LimitState() : table.state(at: slot)
                let result = body(&state)
                table.store(state, at: slot, now: now)
                return result
            }
            var state = LimitState()
            let result = body(&state)
            if !state.isFresh { table.insert(key, state: state, now: now, idleAfter: idleAfter) }
            return result
        }
    }
}
