import Atomics

/// Totals over every finished request since start, for `GET /stats` and the dashboard: status
/// classes and a cumulative latency histogram with the /metrics buckets. Relaxed atomics, a
/// handful per request; a reader may see one counter a request ahead of another, which a
/// dashboard's rates tolerate.
final class RequestTotals: Sendable {
    /// Upper bounds in nanoseconds, ascending (ProxyMetrics.buckets).
    let bounds: [UInt64]
    /// Index 0 unused; 1...5 are 1xx...5xx.
    private let statusClasses = (0...5).map { _ in ManagedAtomic<Int>(0) }
    /// Per bucket, not cumulative: a request adds to one; the reader sums.
    private let buckets: [ManagedAtomic<Int>]
    private let count = ManagedAtomic<Int>(0)
    private let sumNanos = ManagedAtomic<UInt64>(0)
    private let bytesInCount = ManagedAtomic<Int>(0)
    private let bytesOutCount = ManagedAtomic<Int>(0)

    init(bounds: [UInt64]) {
        self.bounds = bounds
        buckets = bounds.map { _ in ManagedAtomic<Int>(0) }
    }

    func record(status: Int, durationNanos: UInt64, bytesIn: Int = 0, bytesOut: Int = 0) {
        if bytesIn > 0 { bytesInCount.wrappingIncrement(by: bytesIn, ordering: .relaxed) }
        if bytesOut > 0 { bytesOutCount.wrappingIncrement(by: bytesOut, ordering: .relaxed) }
        let statusClass = status / 100
        if (1...5).contains(statusClass) { statusClasses[statusClass].wrappingIncrement(ordering: .relaxed) }
        if let index = bounds.firstIndex(where: { durationNanos <= $0 }) { buckets[index].wrappingIncrement(ordering: .relaxed) }
        count.wrappingIncrement(ordering: .relaxed)
        sumNanos.wrappingIncrement(by: durationNanos, ordering: .relaxed)
    }

    var requests: Int { count.load(ordering: .relaxed) }
    /// Request and response body bytes (also /metrics' sluice_request_bytes_total and
    /// sluice_response_bytes_total).
    var bytesIn: Int { bytesInCount.load(ordering: .relaxed) }
    var bytesOut: Int { bytesOutCount.load(ordering: .relaxed) }

    /// `"status":{...},"latency":{"buckets":[[0.001,10],...],"count":n,"sum_seconds":s}` — the
    /// buckets cumulative (Prometheus `le`), `count` also covering those over the last bound.
    var jsonFields: String {
        let classes = (1...5).map { "\"\($0)xx\":\(statusClasses[$0].load(ordering: .relaxed))" }.joined(separator: ",")
        var running = 0
        let cumulative = zip(bounds, buckets).map { bound, bucket -> String in
            running += bucket.load(ordering: .relaxed)
            return "[\(Double(bound) / 1e9),\(running)]"
        }
        // Read after the buckets, so count is never below the last cumulative one.
        let total = max(running, count.load(ordering: .relaxed))
        return "\"status\":{\(classes)},\"latency\":{\"buckets\":[\(cumulative.joined(separator: ","))],"
            + "\"count\":\(total),\"sum_seconds\":\(Double(sumNanos.load(ordering: .relaxed)) / 1e9)}"
    }
}
