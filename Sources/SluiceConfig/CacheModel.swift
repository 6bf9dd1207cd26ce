/// Key `cache`: the HTTP cache shared by every route that turns it on (`routes[].cache`).
/// Sizes accept `1048576`, `1MiB`, `1GiB`.
public struct CacheConfig: Sendable, Equatable {
    /// Key `memory_size`, default 256MiB: the bytes (bodies and stored fields) the memory
    /// store keeps before it evicts.
    public var memorySize = 256 * 1024 * 1024
    /// Key `max_object_size`, default 8MiB: a larger response streams to the client and is not
    /// stored (nginx has no such bound in memory; Varnish's is the storage size).
    public var maxObjectSize = 8 * 1024 * 1024
    /// Key `eviction`, default s3fifo (see docs/caching.md for the measurements behind it).
    public var eviction = CacheEviction.s3fifo
    /// Key `lock_timeout`, default 5s: how long requests for an object already being fetched
    /// wait for that fetch (request collapsing, nginx's `proxy_cache_lock_timeout`) before
    /// they go upstream themselves.
    public var lockTimeout: Duration = .seconds(5)
    /// Key `stale_if_error`, default none: serve a stale object this long past its freshness
    /// when the origin fails, for responses that carry no `stale-if-error` of their own
    /// (RFC 9111 §4.2.4's out-of-band permission).
    public var staleIfError: Duration?
    /// Key `x_cache`, default false: also send `X-Cache: HIT|MISS` (Varnish, CDNs) beside the
    /// standard `Cache-Status`.
    public var xCache = false
    /// Key `tag_header`, default Surrogate-Key: the response field whose space-separated
    /// values tag an object for purge by tag (Fastly's Surrogate-Key; Cloudflare's Cache-Tag
    /// uses commas, also accepted).
    public var tagHeader = "Surrogate-Key"
    /// Key `purge_allow`, default none: peers (CIDRs) that may send the `PURGE` method to the
    /// proxy listeners. The admin API's POST /cache/purge is always available to its token.
    public var purgeAllow: [CIDR] = []
    /// Key `purge_fanout`, default: the first `rate_limits` Redis store, if any. A Redis URL
    /// over whose pub/sub every purge reaches the other instances; `off` for none.
    public var purgeFanout: String?
    /// Key `disk`: a second tier under a directory; off unless `disk.max_size` is set.
    public var disk = CacheDiskConfig()

    public init() {}
}

/// Key `cache.eviction`.
public enum CacheEviction: String, Sendable, Equatable, CaseIterable {
    case lru, lfu, fifo, s3fifo
}

/// Key `cache.disk`.
public struct CacheDiskConfig: Sendable, Equatable {
    /// Key `path`, default /var/cache/sluice (the FHS place for a cache).
    public var path = "/var/cache/sluice"
    /// Key `max_size`, default 0: no disk tier.
    public var maxSize = 0

    public init() {}
}

/// Key `routes[].cache`: the route's responses go through the cache, keyed as below.
public struct RouteCacheConfig: Sendable, Equatable {
    /// Key `enabled`, default true (the section's presence turns caching on).
    public var enabled = true
    /// Key `key.query`, default all: `all` (as sent) or `none` (ignored).
    public var query = CacheQueryMode.all
    /// Key `key.query_keep`, default none: only these query parameters count.
    public var queryKeep: [String] = []
    /// Key `key.query_drop`, default none: these parameters (e.g. utm_source) do not count.
    public var queryDrop: [String] = []
    /// Key `key.sort_query`, default false: `?a=1&b=2` and `?b=2&a=1` share an entry.
    public var sortQuery = false
    /// Key `key.headers`, default none: request fields whose values join the key.
    public var headers: [String] = []
    /// Key `key.cookies`, default none: cookies whose values join the key.
    public var cookies: [String] = []

    public init() {}
}

/// Key `routes[].cache.key.query`.
public enum CacheQueryMode: String, Sendable, Equatable, CaseIterable {
    case all, none
}
