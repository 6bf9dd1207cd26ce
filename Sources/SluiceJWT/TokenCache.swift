/// A bounded map from token text to what verifying it decided, evicting the oldest insertion
/// when full. Not thread-safe: ``JWTClaimVerifier`` keeps it behind a `Mutex`.
///
/// Keys are the whole token: `Dictionary` hashes it with the per-process seeded SipHash (so
/// chosen tokens cannot flood one bucket) and compares the full text on a hash match, so two
/// tokens never share an entry. Expiry is the caller's business: it removes what it finds stale.
struct TokenCache<Entry> {
    let capacity: Int
    private var entries: [String: (entry: Entry, stamp: UInt64)] = [:]
    /// Insertion order. A slot is stale once its token was removed or inserted again (the
    /// stamp then differs); stale slots are skipped on eviction and dropped by `compact()`.
    private var order: [(token: String, stamp: UInt64)] = []
    private var head = 0
    private var nextStamp: UInt64 = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a token cache holds at least one entry")
        self.capacity = capacity
    }

    var count: Int { entries.count }

    func entry(for token: String) -> Entry? {
        entries[token]?.entry
    }

    mutating func insert(_ entry: Entry, for token: String) {
        if entries[token] == nil {
            while entries.count >= capacity { evictOldest() }
        }
        nextStamp &+= 1
        entries[token] = (entry, nextStamp)
        order.append((token, nextStamp))
        if order.count - head > 2 * capacity + 16 { compact() }
    }

    mutating func remove(_ token: String) {
        entries[token] = nil
    }

    private mutating func evictOldest() {
        while head < order.count {
            let slot = order[head]
            head += 1
            if entries[slot.token]?.stamp == slot.stamp {
                entries[slot.token] = nil
                break
            }
        }
        // Dropping the consumed prefix is a memmove, cheaper than `compact()`'s lookups.
        if head >= 1024, head > order.count / 2 {
            order.removeFirst(head)
            head = 0
        }
    }

    /// Keeps only live slots, in order, so `order` stays within a small multiple of `capacity`.
    private mutating func compact() {
        order = order[head...].filter { entries[$0.token]?.stamp == $0.stamp }
        head = 0
    }
}
