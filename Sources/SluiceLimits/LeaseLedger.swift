/// One instance's side of a global limit: tokens leased in batches from the shared store and
/// spent here, so most requests never wait on the store.
///
/// - A key's first request (or one finding the lease empty) waits for a fetch of
///   `leaseSize` tokens; requests arriving meanwhile join that fetch instead of starting one.
/// - When a lease falls to half, a refill of `leaseSize − held` starts in the background, so
///   an instance never holds more than `leaseSize` tokens.
/// - A fetch that gets nothing refuses locally until the store's retry time, without asking
///   again.
/// - Tokens unused for `idleReturn` go back to the store (`expire`).
///
/// Accuracy: tokens are taken from the shared budget when leased, not when spent, so over any
/// interval the instances together admit at most what the store's algorithm granted in it
/// plus what they held when it began: the limit plus `leaseSize × instances`.
public struct LeaseLedger: Sendable {
    public struct Entry: Sendable, Equatable {
        public var tokens = 0
        public var fetching = false
        public var deniedUntil: UInt64 = 0
        public var lastUsed: UInt64 = 0
        /// The store's count of its closest tier at the last fetch, and that tier, for the
        /// RateLimit field.
        public var storeRemaining = 0
        public var storeTier = 0
    }

    /// What a request should do.
    public enum Spend: Sendable, Equatable {
        /// Admitted from the lease; when `refill` is set, fetch that many in the background.
        case allowed(refill: Int?)
        /// The store said no until this many nanoseconds from now.
        case refused(retryAfter: UInt64)
        /// Wait for a fetch; when `fetch` is set, start one of that many tokens.
        case wait(fetch: Int?)
    }

    public let leaseSize: Int
    public let idleReturn: UInt64
    public let maxKeys: Int
    public private(set) var entries: [UInt64: Entry] = [:]

    public init(leaseSize: Int, idleReturn: UInt64, maxKeys: Int) {
        self.leaseSize = max(1, leaseSize)
        self.idleReturn = idleReturn
        self.maxKeys = max(1, maxKeys)
    }

    /// Takes one token for `key` if the lease has one. `evicted` receives a key pushed out to
    /// make room (with its unused tokens, to give back).
    public mutating func spend(_ key: UInt64, now: UInt64, evicted: inout (key: UInt64, tokens: Int)?) -> Spend {
        guard var entry = entries[key] else {
            if entries.count >= maxKeys { evicted = evictOne() }
            entries[key] = Entry(fetching: true, lastUsed: now)
            return .wait(fetch: leaseSize)
        }
        defer { entries[key] = entry }
        entry.lastUsed = now
        if entry.tokens > 0 {
            entry.tokens -= 1
            guard !entry.fetching, entry.tokens <= leaseSize / 2 else { return .allowed(refill: nil) }
            entry.fetching = true
            return .allowed(refill: leaseSize - entry.tokens)
        }
        if now < entry.deniedUntil { return .refused(retryAfter: entry.deniedUntil - now) }
        if entry.fetching { return .wait(fetch: nil) }
        entry.fetching = true
        return .wait(fetch: leaseSize)
    }

    /// A fetch answered: `count` tokens (0 = refused for `retryAfter` nanoseconds).
    public mutating func granted(_ key: UInt64, count: Int, retryAfter: UInt64, storeRemaining: [Int], now: UInt64) {
        var entry = entries[key] ?? Entry(lastUsed: now)
        entry.fetching = false
        entry.tokens += count
        if let closest = storeRemaining.indices.min(by: { storeRemaining[$0] < storeRemaining[$1] }) {
            entry.storeTier = closest
            entry.storeRemaining = storeRemaining[closest]
        }
        if count == 0 { entry.deniedUntil = now + max(retryAfter, 1) }
        entries[key] = entry
    }

    /// Starts a fetch of a whole lease for `key` unless one is running; returns its size, or nil.
    /// For requests still waiting after a grant smaller than the crowd.
    public mutating func beginFetch(_ key: UInt64) -> Int? {
        guard var entry = entries[key], !entry.fetching else { return nil }
        entry.fetching = true
        entries[key] = entry
        return leaseSize
    }

    /// A fetch failed (store down or too slow); the next request tries again.
    public mutating func failed(_ key: UInt64) {
        entries[key]?.fetching = false
    }

    public func entry(_ key: UInt64) -> Entry? { entries[key] }

    /// Takes one token for a request that waited on a fetch; false when none is left.
    public mutating func spendAfterWait(_ key: UInt64, now: UInt64) -> Bool {
        guard var entry = entries[key], entry.tokens > 0 else { return false }
        entry.tokens -= 1
        entry.lastUsed = now
        entries[key] = entry
        return true
    }

    /// Puts back one token spent for a request that was refused elsewhere after all.
    public mutating func refund(_ key: UInt64) {
        entries[key]?.tokens += 1
    }

    /// Removes keys idle for `idleReturn` and returns those holding unused tokens, to give back.
    public mutating func expire(now: UInt64) -> [(key: UInt64, tokens: Int)] {
        var returned: [(key: UInt64, tokens: Int)] = []
        for (key, entry) in entries where !entry.fetching && now >= entry.lastUsed &+ idleReturn && now >= entry.deniedUntil {
            entries[key] = nil
            if entry.tokens > 0 { returned.append((key, entry.tokens)) }
        }
        return returned
    }

    /// Forgets every key and returns the unused tokens held, to give back: the policy is going
    /// away (a reload changed or removed it, or the process stops).
    public mutating func removeAll() -> [(key: UInt64, tokens: Int)] {
        let held = entries.compactMap { key, entry in entry.tokens > 0 ? (key: key, tokens: entry.tokens) : nil }
        entries = [:]
        return held
    }

    private mutating func evictOne() -> (key: UInt64, tokens: Int)? {
        // The least recently used of a few: a dictionary has no order worth more than that.
        var oldest: (key: UInt64, entry: Entry)?
        for (key, entry) in entries.prefix(8) where !entry.fetching && entry.lastUsed < (oldest?.entry.lastUsed ?? .max) {
            oldest = (key, entry)
        }
        guard let oldest else { return nil }
        entries[oldest.key] = nil
        return oldest.entry.tokens > 0 ? (oldest.key, oldest.entry.tokens) : nil
    }
}
