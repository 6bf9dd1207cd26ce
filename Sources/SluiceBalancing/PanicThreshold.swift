/// Envoy's panic mode: when too few backends of a cluster are healthy, sending all traffic to
/// them would overload them too and cascade, so the data path balances across every backend,
/// healthy or not, until enough recover.
public enum PanicThreshold {
    /// Envoy's default threshold, in percent of backends healthy.
    public static let defaultPercent = 50.0

    /// True when fewer than `thresholdPercent` % of `total` backends are healthy. A threshold of
    /// 0 (or less) disables panic mode; an empty cluster never panics (there is nothing to
    /// balance over either way).
    public static func isPanicking(healthy: Int, total: Int, thresholdPercent: Double) -> Bool {
        guard thresholdPercent > 0, total > 0 else { return false }
        // Compared multiplied out, so that 5 of 10 against 50 % is exactly not panicking.
        return Double(healthy) * 100 < thresholdPercent * Double(total)
    }
}
