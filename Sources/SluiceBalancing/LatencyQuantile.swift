/// A streaming quantile of recent latencies (e.g. the cluster's p95, as a hedging delay) in
/// fixed memory.
///
/// Samples go into a log-linear histogram (HdrHistogram's layout): each power of two is split
/// into 16 equal buckets, and a quantile reports its bucket's midpoint, so the answer is within
/// 1/32 (about 3 %) of a recorded value. Values below 32 ns are exact; values of 2^41 ns (about
/// 37 minutes) or more all land in the top bucket.
///
/// The window is a ring of `subWindows` histograms, each covering window / subWindows; a sample
/// ages out when its sub-window leaves the ring, so samples count for between
/// window × (subWindows − 1) / subWindows and window. Memory is fixed: about 2.4 KB per
/// sub-window, 15 KB with the defaults.
public struct LatencyQuantile: Sendable, Equatable {
    private static let subBucketBits = 4
    private static let subBucketCount = 1 << subBucketBits
    private static let largestExponent = 40
    /// Exact buckets for 0..<16, then 16 for each power of two from 2^4 up to 2^40.
    private static let bucketCount = subBucketCount * (largestExponent - subBucketBits + 2)

    public let window: UInt64
    public let subWindows: Int
    /// Samples the window must hold before `quantile` answers.
    public let minimumSamples: Int
    private let subWindowWidth: UInt64
    /// For each slot of the ring, the sub-window (now / subWindowWidth) its counts belong to;
    /// .max for a slot never used.
    private var slotEpochs: [UInt64]
    private var slotTotals: [Int]
    /// slot × bucketCount + bucket.
    private var counts: [UInt32]

    /// `window` (nanoseconds) is rounded down to a multiple of `subWindows`.
    public init(window: UInt64 = 30_000_000_000, subWindows: Int = 6, minimumSamples: Int = 20) {
        self.subWindows = max(1, subWindows)
        self.subWindowWidth = max(1, window / UInt64(self.subWindows))
        self.window = subWindowWidth * UInt64(self.subWindows)
        self.minimumSamples = max(1, minimumSamples)
        self.slotEpochs = Array(repeating: .max, count: self.subWindows)
        self.slotTotals = Array(repeating: 0, count: self.subWindows)
        self.counts = Array(repeating: 0, count: self.subWindows * Self.bucketCount)
    }

    /// Adds one sample observed at `now`.
    public mutating func record(_ latencyNanoseconds: UInt64, now: UInt64) {
        let epoch = now / subWindowWidth
        let slot = Int(epoch % UInt64(subWindows))
        if slotEpochs[slot] != epoch {
            slotEpochs[slot] = epoch
            slotTotals[slot] = 0
            let start = slot * Self.bucketCount
            for index in start..<(start + Self.bucketCount) { counts[index] = 0 }
        }
        let index = slot * Self.bucketCount + Self.bucket(of: latencyNanoseconds)
        // UInt32 keeps the ring small; a bucket that fills up stops counting rather than trap.
        if counts[index] < .max {
            counts[index] += 1
            slotTotals[slot] += 1
        }
    }

    /// Samples within the window at `now`.
    public func sampleCount(now: UInt64) -> Int {
        let current = now / subWindowWidth
        var total = 0
        for slot in 0..<subWindows where isLive(slot, current: current) { total += slotTotals[slot] }
        return total
    }

    /// The `q` quantile (0...1) of the samples within the window at `now`, in nanoseconds, or
    /// nil while the window holds fewer than `minimumSamples`.
    public func quantile(_ q: Double, now: UInt64) -> UInt64? {
        let current = now / subWindowWidth
        let total = sampleCount(now: now)
        guard total >= minimumSamples else { return nil }
        // The nearest-rank definition: the smallest value with at least q × total samples at
        // or below it.
        let clamped = q.isNaN ? 0 : min(1, max(0, q))
        let rank = max(1, Int((clamped * Double(total)).rounded(.up)))
        var seen = 0
        for bucket in 0..<Self.bucketCount {
            for slot in 0..<subWindows where isLive(slot, current: current) {
                seen += Int(counts[slot * Self.bucketCount + bucket])
            }
            if seen >= rank { return Self.midpoint(of: bucket) }
        }
        return Self.midpoint(of: Self.bucketCount - 1)
    }

    private func isLive(_ slot: Int, current: UInt64) -> Bool {
        let epoch = slotEpochs[slot]
        return epoch <= current && current - epoch < UInt64(subWindows)
    }

    private static func bucket(of value: UInt64) -> Int {
        let clamped = min(value, (1 << UInt64(largestExponent + 1)) - 1)
        if clamped < UInt64(subBucketCount) { return Int(clamped) }
        let exponent = UInt64.bitWidth - 1 - clamped.leadingZeroBitCount
        let shift = exponent - subBucketBits
        // The top bit is implied by the exponent; the next four pick the sub-bucket.
        let subBucket = Int(clamped >> UInt64(shift)) - subBucketCount
        return subBucketCount * (shift + 1) + subBucket
    }

    private static func midpoint(of bucket: Int) -> UInt64 {
        if bucket < subBucketCount { return UInt64(bucket) }
        let shift = bucket / subBucketCount - 1
        let subBucket = bucket % subBucketCount
        let lower = UInt64(subBucketCount + subBucket) << UInt64(shift)
        let width: UInt64 = 1 << UInt64(shift)
        return lower + width / 2
    }
}
