import Atomics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SluiceCache
import SluiceConfig

/// The in-memory tier: objects by primary key (each key a short list of Vary variants),
/// bounded by bytes under the configured eviction policy. One lock: a lookup is a dictionary
/// read and a policy touch, short next to the work of serving the bytes it returns.
final class CacheStore: Sendable {
    private struct State {
        var variants: [String: [CachedObject]] = [:]
        /// The primary keys under each URI: a key may add header or cookie values to it.
        var primaries: [String: Set<String>] = [:]
        var kind: EvictionKind
        var index: EvictionIndex<String>
        var objects: [String: CachedObject] = [:]
    }

    private let state: NIOLockedValueBox<State>
    static let maxVariants = 32
    let counters = CacheCounters()

    init(capacity: Int, eviction: CacheEviction) {
        state = NIOLockedValueBox(State(kind: EvictionKind(eviction),
                                                index: EvictionIndex(kind: EvictionKind(eviction), capacityBytes: capacity)))
    }

    /// The variants stored under `primary`, newest first; a hit on one is recorded by `touch`.
    func variants(of primary: String) -> [CachedObject] {
        state.withLockedValue { $0.variants[primary] ?? [] }
    }

    func touch(_ object: CachedObject) {
        state.withLockedValue { _ = $0.index.touch(object.id) }
    }

    /// Stores `object`, replacing the variant with the same id; returns false when the policy
    /// refused it (larger than the whole store, or not admitted).
    /// `ifAbsent`: not over an object of the same id (a copy from disk must not replace a
    /// newer one stored meanwhile).
    @discardableResult
    func insert(_ object: CachedObject, ifAbsent: Bool = false) -> Bool {
        let (evicted, kept) = state.withLockedValue { state -> (Int, Bool) in
            if ifAbsent, state.objects[object.id] != nil { return (0, true) }
            if let old = state.objects[object.id] { Self.unlink(old, from: &state) }
            state.objects[object.id] = object
            state.variants[object.primary, default: []].insert(object, at: 0)
            state.primaries[object.uri, default: []].insert(object.primary)
            var evicted = 0
            var kept = true
            // A Vary on a field with endless values (User-Agent) must not grow one key's list
            // without bound: past the cap, the oldest variant goes.
            if let list = state.variants[object.primary], list.count > Self.maxVariants, let oldest = list.last {
                Self.unlink(oldest, from: &state)
                state.index.remove(oldest.id)
                evicted += 1
            }
            for id in state.index.insert(object.id, size: object.size) {
                guard let gone = state.objects[id] else { continue }
                Self.unlink(gone, from: &state)
                if id == object.id { kept = false } else { evicted += 1 }
            }
            return (evicted, kept)
        }
        counters.evictions.wrappingIncrement(by: evicted, ordering: .relaxed)
        if kept, !ifAbsent { counters.stores.wrappingIncrement(ordering: .relaxed) }
        return kept
    }

    /// Replaces `old` by its freshened self (a 304), if `old` is still the one stored: a
    /// newer fill that landed meanwhile wins.
    func update(_ object: CachedObject, replacing old: CachedObject) {
        let evicted = state.withLockedValue { state -> Int in
            guard state.objects[object.id] === old else { return 0 }
            state.objects[object.id] = object
            if var list = state.variants[object.primary], let at = list.firstIndex(where: { $0.id == object.id }) {
                list[at] = object
                state.variants[object.primary] = list
            }
            // Its fields, and so its size, may have changed.
            var gone = 0
            for id in state.index.insert(object.id, size: object.size) where id != object.id {
                if let evicted = state.objects[id] { Self.unlink(evicted, from: &state); gone += 1 }
            }
            if !state.index.contains(object.id) { Self.unlink(object, from: &state) }
            return gone
        }
        counters.evictions.wrappingIncrement(by: evicted, ordering: .relaxed)
    }

    /// Removes every object `matches` selects; returns how many went.
    @discardableResult
    func remove(where matches: (CachedObject) -> Bool) -> Int {
        state.withLockedValue { state in
            let doomed = state.objects.values.filter(matches)
            for object in doomed {
                Self.unlink(object, from: &state)
                state.index.remove(object.id)
            }
            return doomed.count
        }
    }

    /// Every variant of the URI (invalidation, RFC 9111 §4.4; purge by URL), without a scan.
    @discardableResult
    func remove(uri: String) -> Int {
        state.withLockedValue { state in
            let doomed = (state.primaries[uri] ?? []).flatMap { state.variants[$0] ?? [] }
            for object in doomed {
                Self.unlink(object, from: &state)
                state.index.remove(object.id)
            }
            return doomed.count
        }
    }

    /// A new size evicts at once when smaller; a new policy takes the stored objects over,
    /// oldest first, as if each were stored again.
    func reconfigure(capacity: Int, eviction: CacheEviction) {
        let evicted = state.withLockedValue { state -> Int in
            let kind = EvictionKind(eviction)
            var ids: [String]
            if kind != state.kind {
                state.kind = kind
                state.index = EvictionIndex(kind: kind, capacityBytes: capacity)
                ids = []
                for object in state.objects.values.sorted(by: { $0.stored.responseTime < $1.stored.responseTime }) {
                    ids += state.index.insert(object.id, size: object.size)
                }
            } else {
                ids = state.index.setCapacity(capacity)
            }
            for id in ids { if let gone = state.objects[id] { Self.unlink(gone, from: &state) } }
            return ids.count
        }
        counters.evictions.wrappingIncrement(by: evicted, ordering: .relaxed)
    }

    var usedBytes: Int { state.withLockedValue { $0.index.usedBytes } }
    var objectCount: Int { state.withLockedValue { $0.objects.count } }

    /// Takes the object out of the maps (not the index: the caller decides).
    private static func unlink(_ object: CachedObject, from state: inout State) {
        state.objects[object.id] = nil
        guard var list = state.variants[object.primary] else { return }
        list.removeAll { $0.id == object.id }
        state.variants[object.primary] = list.isEmpty ? nil : list
        if list.isEmpty {
            state.primaries[object.uri]?.remove(object.primary)
            if state.primaries[object.uri]?.isEmpty == true { state.primaries[object.uri] = nil }
        }
    }
}

/// What /metrics and /stats report of the cache; bumped by the data path.
final class CacheCounters: Sendable {
    let hits = ManagedAtomic(0)
    let misses = ManagedAtomic(0)
    let staleServed = ManagedAtomic(0)
    let revalidated = ManagedAtomic(0)
    let stores = ManagedAtomic(0)
    let evictions = ManagedAtomic(0)
    let collapsed = ManagedAtomic(0)
    let purged = ManagedAtomic(0)
    let invalidated = ManagedAtomic(0)
    /// Objects read back from the disk tier into memory.
    let diskReads = ManagedAtomic(0)
}

extension EvictionKind {
    init(_ configured: CacheEviction) {
        switch configured {
        case .lru: self = .lru
        case .lfu: self = .lfu
        case .fifo: self = .fifo
        case .s3fifo: self = .s3fifo
        }
    }
}
