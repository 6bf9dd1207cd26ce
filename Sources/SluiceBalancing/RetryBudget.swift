/// Finagle's retry budget: retries may be at most `percent` % of the requests seen over a
/// sliding `window`, plus a floor of `minRetriesPerSecond` for every second of the window so
/// that a quiet client can still retry. When an upstream fails everywhere this caps the extra
/// load retries add, instead of multiplying it.
///
/// Counts live in a ring of one-second buckets, so memory is fixed by the window; the window
/// slides a whole bucket at a time.
public struct RetryBudget: Sendable, Equatable {
    private struct Bucket: Sendable, Equatable {
        /// Which second (now / 1 s) the counts belong to; a bucket from an older lap of the
        /// ring is stale and counts as empty.
        var second: UInt64 = 0
        var requests = 0
        var retries = 0
    }

    private static let bucketWidth: UInt64 = 1_000_000_000

    public let percent: Double
    public let minRetriesPerSecond: Int
    public let window: UInt64
    /// Retries the floor allows per window: `minRetriesPerSecond` × the window in seconds.
    public let reserve: Int
    private var buckets: [Bucket]

    public init(percent: Double = 20, minRetriesPerSecond: Int = 3, window: UInt64 = 10_000_000_000) {
        self.percent = percent.isFinite ? max(0, percent) : 0
        self.minRetriesPerSecond = max(0, minRetriesPerSecond)
        self.window = window
        let count = max(1, Int((window + Self.bucketWidth - 1) / Self.bucketWidth))
        self.reserve = Int(Double(self.minRetriesPerSecond) * Double(window) / Double(Self.bucketWidth))
        // Second 0 of a fresh ring must not look current, or a clock starting at 0 would
        // see the placeholder buckets as real; UInt64.max never equals a real second.
        self.buckets = Array(repeating: Bucket(second: .max), count: count)
    }

    /// Counts an original request (not a retry) towards the budget.
    public mutating func recordRequest(now: UInt64) {
        let index = advance(to: now)
        buckets[index].requests += 1
    }

    /// True, and the retry is counted, when the budget allows one more retry now.
    public mutating func tryWithdrawRetry(now: UInt64) -> Bool {
        let index = advance(to: now)
        guard retries(now: now) < allowedRetries(now: now) else { return false }
        buckets[index].retries += 1
        return true
    }

    /// Retries the window allows at `now`, spent or not.
    public func allowedRetries(now: UInt64) -> Int {
        // percent × requests / 100 in this order keeps 20 % of 100 exactly 20.
        let share = Int((percent * Double(sum(now: now, \.requests)) / 100).rounded(.down))
        return share + reserve
    }

    /// Retries withdrawn within the window at `now`.
    public func retries(now: UInt64) -> Int { sum(now: now, \.retries) }

    /// Requests recorded within the window at `now`.
    public func requests(now: UInt64) -> Int { sum(now: now, \.requests) }

    private func sum(now: UInt64, _ field: KeyPath<Bucket, Int>) -> Int {
        let current = now / Self.bucketWidth
        var total = 0
        for bucket in buckets where isLive(bucket, current: current) { total += bucket[keyPath: field] }
        return total
    }

    private func isLive(_ bucket: Bucket, current: UInt64) -> Bool {
        bucket.second <= current && current - bucket.second < UInt64(buckets.count)
    }

    /// The ring index of the bucket for `now`, cleared first if it still holds an older second.
    private mutating func advance(to now: UInt64) -> Int {
        let second = now / Self.bucketWidth
        let index = Int(second % UInt64(buckets.count))
        if buckets[index].second != second { buckets[index] = Bucket(second: second) }
        return index
    }
}
