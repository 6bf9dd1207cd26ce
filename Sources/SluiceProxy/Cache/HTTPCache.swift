#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Atomics
import NIOConcurrencyHelpers
import SluiceCache
import SluiceConfig

/// Wall-clock Unix seconds for the cache's RFC 9111 arithmetic (Date, Expires and Age are
/// wall-clock values). A parameter so that tests move time instead of sleeping.
public protocol WallClock: Sendable {
    func now() -> Int64
}

public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Int64 { Int64(time(nil)) }
}

/// A clock the tests set.
final class ManualWallClock: WallClock {
    private let seconds: ManagedAtomic<Int64>
    init(_ start: Int64 = 1_800_000_000) { seconds = ManagedAtomic(start) }
    func now() -> Int64 { seconds.load(ordering: .relaxed) }
    func advance(by delta: Int64) { seconds.wrappingIncrement(by: delta, ordering: .relaxed) }
}

/// The process's cache: the store and the collapsing registry outlive reloads (a reload
/// resizes the store, it does not empty it); the clock is fixed at start.
final class HTTPCache: Sendable {
    let store: CacheStore
    let flights = CacheFlights()
    let clock: any WallClock
    /// Set once at start when `cache.disk.max_size` is above 0.
    private let diskTier = NIOLockedValueBox<DiskTier?>(nil)
    var disk: DiskTier? { diskTier.withLockedValue { $0 } }
    func attach(_ disk: DiskTier) { diskTier.withLockedValue { $0 = disk } }

    /// Stores in memory, and on disk when there is a disk tier.
    @discardableResult
    func insert(_ object: CachedObject) -> Bool {
        let kept = store.insert(object)
        disk?.write(object)
        return kept
    }

    /// A 304's update, in both tiers.
    func update(_ object: CachedObject, replacing old: CachedObject) {
        store.update(object, replacing: old)
        disk?.write(object)
    }

    /// Every variant of the URI, in both tiers (invalidation, purge by URL); the count is the
    /// memory tier's.
    @discardableResult
    func remove(uri: String) -> Int {
        disk?.remove(uri: uri)
        return store.remove(uri: uri)
    }

    init(config: CacheConfig, clock: any WallClock) {
        store = CacheStore(capacity: config.memorySize, eviction: config.eviction)
        self.clock = clock
    }

    /// A reload's new `cache` section: a new size applies at once (evicting if smaller), a new
    /// eviction policy re-admits what is stored under it.
    func apply(_ config: CacheConfig) {
        store.reconfigure(capacity: config.memorySize, eviction: config.eviction)
    }
}

/// What one generation's requests need of the cache configuration, computed once.
struct CacheSettings: Sendable {
    let config: CacheConfig
    let policy: CachePolicy
    /// By route index; only routes with caching on have one.
    let rules: [Int: CacheKeyRule]

    init(config: SluiceConfig) {
        self.config = config.cache
        policy = CachePolicy(staleIfErrorByDefault: config.cache.staleIfError.map { $0.components.seconds } ?? 0)
        var rules: [Int: CacheKeyRule] = [:]
        for (index, route) in config.routes.enumerated() {
            guard let cache = route.cache, cache.enabled else { continue }
            let query: CacheKeyRule.Query
            if cache.query == .none {
                query = .ignored
            } else if !cache.queryKeep.isEmpty {
                query = .keepingOnly(Set(cache.queryKeep))
            } else if !cache.queryDrop.isEmpty {
                query = .dropping(Set(cache.queryDrop))
            } else {
                query = .all
            }
            rules[index] = CacheKeyRule(query: query, sortsQueryParameters: cache.sortQuery, headers: cache.headers, cookies: cache.cookies)
        }
        self.rules = rules
    }
}

/// What a purge removes: the admin API's `POST /cache/purge?url=|prefix=|tag=` and the
/// `PURGE` method (exact URL) on the proxy listeners.
enum PurgeSelector: Sendable, Equatable {
    /// Every variant stored for this URL (compared after the same normalisation as keys:
    /// lowercased scheme and host, default port dropped).
    case url(String)
    /// Every object whose URL starts with this.
    case prefix(String)
    /// Every object tagged with this in `cache.tag_header`.
    case tag(String)

    /// From the admin API's query: exactly one of url, prefix or tag.
    init?(query: String) {
        var found: [PurgeSelector] = []
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = PercentDecoding.decode(parts[1]), !value.isEmpty else { return nil }
            switch parts[0] {
            case "url": found.append(.url(value))
            case "prefix": found.append(.prefix(value))
            case "tag": found.append(.tag(value))
            default: return nil
            }
        }
        guard found.count == 1 else { return nil }
        self = found[0]
    }
}

extension HTTPCache {
    /// Removes what `selector` names; returns how many objects went.
    func purge(_ selector: PurgeSelector) -> Int {
        let removed: Int
        switch selector {
        case .url(let url):
            let normalised = TargetURI(url).map { CacheKey.uri($0, rule: CacheKeyRule()) } ?? url
            removed = remove(uri: normalised)
        case .prefix(let prefix):
            disk?.remove { uri, _ in uri.hasPrefix(prefix) }
            removed = store.remove { $0.uri.hasPrefix(prefix) }
        case .tag(let tag):
            disk?.remove { _, tags in tags.contains(tag) }
            removed = store.remove { $0.tags.contains(tag) }
        }
        store.counters.purged.wrappingIncrement(by: removed, ordering: .relaxed)
        return removed
    }
}

/// `%XX` and `+` in a query value (application/x-www-form-urlencoded, as curl's
/// `--data-urlencode` and browsers send it).
enum PercentDecoding {
    static func decode(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
