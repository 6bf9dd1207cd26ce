import Atomics
import NIOConcurrencyHelpers
import NIOCore
import Prometheus
import SluiceBalancing
import SluiceConfig

/// What /metrics shows. Per-request series live in a swift-prometheus registry; what other
/// parts already count (connections, backend health, rate-limit counters) is read when
/// scraped, so the data path pays for nothing twice.
final class ProxyMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// The same traffic as plain totals, for /stats (the registry's values cannot be read
    /// back); the byte totals are also what /metrics shows, so they are counted once.
    let totals = RequestTotals(bounds: ProxyMetrics.buckets.map { UInt64($0.nanoseconds) })
    /// Request series by (route, cluster, status class), with the cluster's upstream and
    /// retry series: made once per label set, then cached here, so a request takes this one
    /// lock and a few atomics, not the registry's.
    private let series = NIOLockedValueBox<[SeriesKey: Series]>([:])

    private struct SeriesKey: Hashable {
        let route: String
        let cluster: String
        let statusClass: Int
    }

    private struct Series {
        let requests: Counter
        let duration: DurationHistogram
        /// Per cluster (the registry hands every route the same ones); nil for Sluice's own answers.
        let upstream: DurationHistogram?
        let retries: Counter?
    }

    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]


    /// One finished request (proxied, or answered by Sluice itself with `cluster` nil).
    func request(route: String?, cluster: String?, status: Int, durationNanos: UInt64, upstreamNanos: UInt64?,
                 bytesIn: Int, bytesOut: Int, retries: Int) {
        let key = SeriesKey(route: route ?? "", cluster: cluster ?? "", statusClass: status / 100)
        let series = self.series.withLockedValue { all in
            if let known = all[key] { return known }
            let made = makeSeries(key, proxied: cluster != nil)
            all[key] = made
            return made
        }
        series.requests.increment()
        series.duration.recordNanoseconds(Int64(clamping: durationNanos))
        if let upstreamNanos { series.upstream?.recordNanoseconds(Int64(clamping: upstreamNanos)) }
        if retries > 0 { series.retries?.increment(by: Int64(retries)) }
        totals.record(status: status, durationNanos: durationNanos, bytesIn: bytesIn, bytesOut: bytesOut)
    }

    private func makeSeries(_ key: SeriesKey, proxied: Bool) -> Series {
        let labels = [("route", key.route), ("cluster", key.cluster), ("code", "\(key.statusClass)xx")]
        let cluster = [("cluster", key.cluster)]
        return Series(
            requests: registry.makeCounter(descriptor: Self.name("requests", "total", "Requests by route, cluster and status class"),
                                           labels: labels),
            duration: registry.makeDurationHistogram(descriptor: Self.name("request_duration", "seconds", "Client-side request duration"),
                                                     labels: labels, buckets: Self.buckets),
            upstream: proxied
                ? registry.makeDurationHistogram(descriptor: Self.name("upstream_response", "seconds", "Request sent to response head"),
                                                 labels: cluster, buckets: Self.buckets)
                : nil,
            retries: proxied ? registry.makeCounter(descriptor: Self.name("retries", "total", "Tries after the first"), labels: cluster) : nil
        )
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "sluice", metricName: metric, unitName: unit, helpText: help)
    }

    /// The exposition: the registry's series, then the ones read from live state.
    func render(runtime: ProxyRuntime) -> String {
        var text = registry.emitToString()
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { text += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        family("sluice_request_bytes_total", "counter", "Request body bytes received from clients", [("", "\(totals.bytesIn)")])
        family("sluice_response_bytes_total", "counter", "Response body bytes sent to clients", [("", "\(totals.bytesOut)")])
        family("sluice_connections_open", "gauge", "Client connections open", [("", "\(runtime.connections.load(ordering: .relaxed))")])
        let clusters = runtime.health.all
        var healthy: [(String, String)] = [], inFlight: [(String, String)] = [], ejections: [(String, String)] = []
        let now = NIODeadline.now().uptimeNanoseconds
        for cluster in clusters {
            var seen: Set<String> = []
            // The same address listed twice is one series (the exposition allows no duplicates).
            for backend in cluster.backends where seen.insert(backend.address).inserted {
                let labels = "{cluster=\"\(Self.escaped(cluster.name))\",backend=\"\(Self.escaped(backend.address))\"}"
                let up = backend.activelyHealthy.load(ordering: .relaxed) && !backend.isEjected(now: now)
                healthy.append((labels, up ? "1" : "0"))
                inFlight.append((labels, "\(backend.inFlight.load(ordering: .relaxed))"))
                ejections.append((labels, "\(backend.ejections.load(ordering: .relaxed))"))
            }
        }
        family("sluice_requests_in_flight", "gauge", "Requests in flight to backends",
               [("", "\(inFlight.reduce(0) { $0 + (Int($1.1) ?? 0) })")])
        family("sluice_backend_healthy", "gauge", "1 when active checks pass and outlier detection has not ejected it", healthy)
        family("sluice_backend_in_flight", "gauge", "Requests in flight to the backend", inFlight)
        family("sluice_backend_ejections_total", "counter", "Outlier ejections", ejections)
        var decisions: [(String, String)] = [], storeErrors: [(String, String)] = []
        for (name, policy) in runtime.generation.limiter.policies.sorted(by: { $0.key < $1.key }) {
            let counters = policy.counters
            for (result, counter) in [("allowed", counters.allowed), ("denied", counters.denied), ("shadowed", counters.shadowed),
                                      ("skipped", counters.skipped)] {
                decisions.append(("{policy=\"\(Self.escaped(name))\",result=\"\(result)\"}", "\(counter.load(ordering: .relaxed))"))
            }
            storeErrors.append(("{policy=\"\(Self.escaped(name))\"}", "\(counters.storeErrors.load(ordering: .relaxed))"))
        }
        family("sluice_ratelimit_decisions_total", "counter", "Rate-limit decisions by policy and result", decisions)
        family("sluice_ratelimit_store_errors_total", "counter", "Shared-store failures and timeouts by policy", storeErrors)
        let cache = runtime.cache.store
        let counters = cache.counters
        family("sluice_cache_requests_total", "counter", "Cacheable requests by what the cache did", [
            ("{result=\"hit\"}", "\(counters.hits.load(ordering: .relaxed))"),
            ("{result=\"miss\"}", "\(counters.misses.load(ordering: .relaxed))"),
            ("{result=\"stale\"}", "\(counters.staleServed.load(ordering: .relaxed))"),
            ("{result=\"revalidated\"}", "\(counters.revalidated.load(ordering: .relaxed))"),
            ("{result=\"collapsed\"}", "\(counters.collapsed.load(ordering: .relaxed))"),
        ])
        family("sluice_cache_stores_total", "counter", "Responses stored", [("", "\(counters.stores.load(ordering: .relaxed))")])
        family("sluice_cache_evictions_total", "counter", "Objects evicted to stay within cache.memory_size",
               [("", "\(counters.evictions.load(ordering: .relaxed))")])
        family("sluice_cache_purged_total", "counter", "Objects removed by purges and by invalidation after unsafe methods", [
            ("{reason=\"purge\"}", "\(counters.purged.load(ordering: .relaxed))"),
            ("{reason=\"invalidation\"}", "\(counters.invalidated.load(ordering: .relaxed))"),
        ])
        family("sluice_cache_bytes", "gauge", "Bytes held by the memory store", [("", "\(cache.usedBytes)")])
        family("sluice_cache_objects", "gauge", "Objects held by the memory store", [("", "\(cache.objectCount)")])
        let snapshot = runtime.snapshot
        family("sluice_config_info", "gauge", "The loaded configuration: its source and a hash of its typed content",
               [("{source=\"\(Self.escaped(snapshot.source))\",hash=\"\(Self.configHash(snapshot.config))\"}", "1")])
        family("sluice_config_generation", "gauge", "Starts at 1; one more with every reload that applied a change",
               [("", "\(snapshot.generation)")])
        let reloads = runtime.reloads
        family("sluice_config_reloads_total", "counter", "Reloads by result (applied, unchanged, failed)", [
            ("{result=\"applied\"}", "\(reloads.applied.load(ordering: .relaxed))"),
            ("{result=\"unchanged\"}", "\(reloads.unchanged.load(ordering: .relaxed))"),
            ("{result=\"failed\"}", "\(reloads.failed.load(ordering: .relaxed))"),
        ])
        let lastFailed = reloads.last.withLockedValue { $0?.result == .failed }
        family("sluice_config_last_reload_successful", "gauge", "0 when the last reload failed (the running config is older than the file)",
               [("", lastFailed ? "0" : "1")])
        family("sluice_config_last_reload_success_timestamp_seconds", "gauge", "Unix time of the last reload that did not fail (start time before one)",
               [("", "\(reloads.lastSuccess.load(ordering: .relaxed))")])
        return text
    }

    /// XXH64 of the redacted configuration (as /config shows it): equal configurations hash
    /// alike, and the hash says nothing about a secret /config does not show.
    static func configHash(_ config: SluiceConfig) -> String {
        let hex = String(XXHash64.hash(ConfigJSON.render(config)), radix: 16)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex
    }

    static func escaped(_ value: String) -> String {
        var out = ""
        // By scalar: "\r\n" is one Character and would slip past a "\n" case.
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
