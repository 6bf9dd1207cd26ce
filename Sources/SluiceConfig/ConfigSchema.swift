/// Every key the loader knows, per section. The reader refuses (by assertion) to read a key not
/// listed here, and the tests check that each path appears in `sluice.example.yaml`, so the
/// code, the unknown-key suggestions and the documented example cannot drift apart.
public enum ConfigSchema {
    static let root = [
        "event_loops", "listeners", "clusters", "routes", "limits", "timeouts", "headers", "access_log", "rate_limits", "jwt",
        "regions", "access", "admin", "log", "reload", "user", "cache",
    ]
    static let listener = ["name", "address", "port", "tls", "https_redirect", "forward_proxy", "http2"]
    static let http2 = ["enabled", "max_concurrent_streams", "max_header_list_size", "max_resets", "reset_window"]
    static let forwardProxy = ["allow_clients", "allow_hosts", "allow_ports", "allow_private", "users"]
    static let forwardProxyUser = ["name", "password"]
    static let listenerTLS = ["certificates", "min_version", "ciphers", "alpn", "reload_interval", "hsts"]
    static let tlsCertificate = ["cert", "key", "server_names"]
    static let hsts = ["max_age", "include_subdomains", "preload"]
    static let httpsRedirect = ["port", "status"]
    static let cluster = [
        "name", "balancer", "hash", "backends", "pool", "health_check", "outlier_detection", "circuit_breaker", "retries",
        "slow_start", "panic_threshold", "tls", "http2",
    ]
    static let clusterHTTP2 = ["enabled", "max_concurrent_streams", "initial_window_size"]
    static let clusterTLS = ["server_name", "verify", "ca_file", "client_cert", "client_key", "min_version"]
    static let hash = ["key", "virtual_nodes", "maglev_table_size", "balance_factor"]
    static let backend = ["address", "weight", "drain"]
    static let pool = ["max_idle", "idle_timeout"]
    static let healthCheck = [
        "type", "method", "path", "host", "expect_status", "body_contains", "interval", "jitter", "timeout", "rise", "fall",
    ]
    static let outlier = [
        "consecutive_5xx", "consecutive_gateway_failures", "base_ejection_time", "max_ejection_time", "max_ejection_percent",
    ]
    static let circuitBreaker = ["max_in_flight", "max_pending_connects"]
    static let retries = ["max_retries", "per_try_timeout", "on_status", "budget_percent", "budget_min_per_second", "replay_buffer"]
    static let route = ["name", "match", "cluster", "limits", "timeouts", "hedge", "rate_limits", "slo", "cache", "websocket"]
    static let cache = [
        "memory_size", "max_object_size", "eviction", "lock_timeout", "stale_if_error", "x_cache", "tag_header", "purge_allow", "purge_fanout", "disk",
    ]
    static let cacheDisk = ["path", "max_size"]
    static let routeCache = ["enabled", "key"]
    static let routeCacheKey = ["query", "query_keep", "query_drop", "sort_query", "headers", "cookies"]
    static let slo = ["availability", "latency"]
    static let sloLatency = ["threshold", "percent"]
    static let hedge = ["delay"]
    static let match = ["host", "path_prefix", "method"]
    static let limits = [
        "max_connections", "max_header_bytes", "max_header_count", "max_uri_bytes", "max_body_bytes", "max_connections_per_ip",
        "accept_rate_per_ip", "max_requests_per_connection",
    ]
    static let rateLimit = [
        "name", "algorithm", "tiers", "key", "ipv6_prefix", "store", "lease_size", "store_timeout", "on_store_error", "shadow",
        "allow_cidrs", "status", "body", "max_keys", "response_headers",
    ]
    static let tier = ["limit", "window", "burst"]
    static let jwt = ["keys", "issuer", "audience", "leeway", "timeout"]
    static let jwtKey = ["algorithm", "kid", "secret", "public_key_file"]
    static let regions = ["header", "table_file"]
    static let access = ["allow", "deny"]
    static let admin = ["enabled", "address", "port", "token"]
    static let log = ["level", "format"]
    static let reload = ["watch", "watch_interval", "drain_timeout"]
    static let timeouts = [
        "client_header", "client_idle", "client_park", "client_body", "client_send", "upstream_connect", "upstream_header", "upstream_idle", "drain", "tunnel_idle", "stream",
    ]
    static let headers = ["trusted_proxies", "request_id", "via"]
    static let accessLog = ["enabled", "format"]
    /// Routes may override only what concerns one request to one upstream.
    static let routeLimits = ["max_body_bytes"]
    static let routeTimeouts = ["upstream_connect", "upstream_header", "upstream_idle", "tunnel_idle", "stream"]

    /// All key paths, `[]` marking a list element: `listeners[].port`,
    /// `routes[].timeouts.upstream_idle`, `clusters[].backends[].weight`.
    public static let keyPaths: [String] = {
        func under(_ prefix: String, _ keys: [String]) -> [String] { keys.map { "\(prefix).\($0)" } }
        return root
            + under("listeners[]", listener)
            + under("listeners[].tls", listenerTLS)
            + under("listeners[].tls.certificates[]", tlsCertificate)
            + under("listeners[].tls.hsts", hsts)
            + under("listeners[].https_redirect", httpsRedirect)
            + under("listeners[].forward_proxy", forwardProxy)
            + under("listeners[].http2", http2)
            + under("listeners[].forward_proxy.users[]", forwardProxyUser)
            + under("clusters[]", cluster)
            + under("clusters[].hash", hash)
            + under("clusters[].backends[]", backend)
            + under("clusters[].pool", pool)
            + under("clusters[].tls", clusterTLS)
            + under("clusters[].http2", clusterHTTP2)
            + under("clusters[].health_check", healthCheck)
            + under("clusters[].outlier_detection", outlier)
            + under("clusters[].circuit_breaker", circuitBreaker)
            + under("clusters[].retries", retries)
            + under("routes[]", route)
            + under("routes[].match", match)
            + under("routes[].limits", routeLimits)
            + under("routes[].timeouts", routeTimeouts)
            + under("routes[].hedge", hedge)
            + under("routes[].slo", slo)
            + under("routes[].slo.latency", sloLatency)
            + under("limits", limits)
            + under("timeouts", timeouts)
            + under("headers", headers)
            + under("access_log", accessLog)
            + under("rate_limits[]", rateLimit)
            + under("rate_limits[].tiers[]", tier)
            + under("jwt", jwt)
            + under("jwt.keys[]", jwtKey)
            + under("regions", regions)
            + under("access", access)
            + under("admin", admin)
            + under("log", log)
            + under("reload", reload)
            + under("cache", cache)
            + under("cache.disk", cacheDisk)
            + under("routes[].cache", routeCache)
            + under("routes[].cache.key", routeCacheKey)
    }()

    /// Message for a global-only key found in a route's section (`limits` or `timeouts`).
    static func globalOnly(_ section: String, all: [String], routeKeys: [String]) -> [String: String] {
        var messages: [String: String] = [:]
        for key in all where !routeKeys.contains(key) {
            messages[key] = "\"\(key)\" can only be set globally, under \(section)"
        }
        return messages
    }
}
