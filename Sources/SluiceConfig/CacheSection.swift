/// The `cache` section and each route's `cache` block.
extension ConfigReader {
    func readCache(_ root: Fields) -> CacheConfig {
        var cache = CacheConfig()
        guard let fields = section(root, "cache", ConfigSchema.cache) else { return cache }
        cache.memorySize = value(fields, "memory_size", .byteSize(atLeast: 0)).or(cache.memorySize)
        cache.maxObjectSize = value(fields, "max_object_size", .byteSize(atLeast: 1)).or(cache.maxObjectSize)
        cache.eviction = value(fields, "eviction", .enumeration("eviction policy")).or(cache.eviction)
        cache.lockTimeout = value(fields, "lock_timeout", .duration).or(cache.lockTimeout)
        cache.staleIfError = value(fields, "stale_if_error", .duration).value
        cache.xCache = value(fields, "x_cache", .boolean).or(cache.xCache)
        cache.tagHeader = value(fields, "tag_header", .nonEmptyString).or(cache.tagHeader)
        cache.purgeAllow = (items(fields, "purge_allow") ?? []).compactMap { item, path in convert(item, at: path, as: .cidr).value }
        cache.purgeFanout = value(fields, "purge_fanout", Conversion<String>.nonEmptyString.checked { text, _ in
            text == "off" || text.hasPrefix("redis://") ? nil : "must be a redis:// URL or off, got \"\(text)\""
        }).value
        if let disk = section(fields, "disk", ConfigSchema.cacheDisk) {
            cache.disk.path = value(disk, "path", .nonEmptyString).or(cache.disk.path)
            cache.disk.maxSize = value(disk, "max_size", .byteSize(atLeast: 0)).or(cache.disk.maxSize)
        }
        if cache.maxObjectSize > cache.memorySize, cache.memorySize > 0 {
            report("max_object_size (\(cache.maxObjectSize) bytes) is larger than memory_size (\(cache.memorySize) bytes)",
                   at: fields.path.key("max_object_size"), line: fields.node("max_object_size")?.line ?? fields.line)
        }
        return cache
    }

    func readRouteCache(_ route: Fields) -> RouteCacheConfig? {
        guard let fields = section(route, "cache", ConfigSchema.routeCache) else { return nil }
        var cache = RouteCacheConfig()
        cache.enabled = value(fields, "enabled", .boolean).or(cache.enabled)
        guard let key = section(fields, "key", ConfigSchema.routeCacheKey) else { return cache }
        cache.query = value(key, "query", .enumeration("query mode")).or(cache.query)
        func names(_ name: String) -> [String] {
            (items(key, name) ?? []).compactMap { item, path in convert(item, at: path, as: .nonEmptyString).value }
        }
        cache.queryKeep = names("query_keep")
        cache.queryDrop = names("query_drop")
        cache.sortQuery = value(key, "sort_query", .boolean).or(cache.sortQuery)
        cache.headers = names("headers")
        cache.cookies = names("cookies")
        if !cache.queryKeep.isEmpty, !cache.queryDrop.isEmpty {
            report("query_keep and query_drop cannot both be set", at: key.path.key("query_drop"),
                   line: key.node("query_drop")?.line ?? key.line)
        }
        if cache.query == .none, !(cache.queryKeep.isEmpty && cache.queryDrop.isEmpty) {
            report("query: none ignores the query, so query_keep and query_drop have nothing to act on", at: key.path.key("query"),
                   line: key.node("query")?.line ?? key.line)
        }
        return cache
    }
}
