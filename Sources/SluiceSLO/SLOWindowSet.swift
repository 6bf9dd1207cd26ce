/// The rolling windows an objective is tracked over: the five the dashboards show (5 m, 1 h,
/// 6 h, 1 d, 30 d) and the three more the SRE workbook's burn-rate alerts pair them with
/// (30 m, 2 h, 3 d), so every rule in ``BurnRateRule/workbook`` is the workbook's own.
public enum SLOWindow: String, Sendable, CaseIterable {
    case fiveMinutes = "5m"
    case thirtyMinutes = "30m"
    case oneHour = "1h"
    case twoHours = "2h"
    case sixHours = "6h"
    case oneDay = "1d"
    case threeDays = "3d"
    case thirtyDays = "30d"

    /// The window's length in nanoseconds.
    public var length: UInt64 {
        switch self {
        case .fiveMinutes: 5 * Nanos.minute
        case .thirtyMinutes: 30 * Nanos.minute
        case .oneHour: Nanos.hour
        case .twoHours: 2 * Nanos.hour
        case .sixHours: 6 * Nanos.hour
        case .oneDay: Nanos.day
        case .threeDays: 3 * Nanos.day
        case .thirtyDays: 30 * Nanos.day
        }
    }

    /// The width of the buckets it is made of: an event counts in the window for at least
    /// `length − resolution` and less than `length` after it happened.
    public var resolution: UInt64 {
        switch self {
        case .fiveMinutes: 10 * Nanos.second
        case .thirtyMinutes, .oneHour, .twoHours: Nanos.minute
        case .sixHours, .oneDay: 15 * Nanos.minute
        case .threeDays, .thirtyDays: 6 * Nanos.hour
        }
    }
}

/// Good and total counts over every ``SLOWindow``, in four rings whose buckets the windows
/// share: 10 s × 30 (5 m), 1 min × 120 (30 m, 1 h, 2 h), 15 min × 96 (6 h, 1 d) and
/// 6 h × 120 (3 d, 30 d). 366 buckets of 16 bytes: 5,856 bytes an objective, plus four array
/// headers. Not thread-safe; ``SLOTracker`` keeps it behind a `Mutex`.
///
/// Why these widths: every window is a ratio (error ratio, burn rate), and a window one bucket
/// short changes how far back it looks, not the scale of the number. The short windows, which
/// decide how fast an alert fires and clears, get fine buckets (5 m to within 10 s, 30 m to
/// within 1 min); the long ones, which only need the trend, get coarse ones (6 h to within
/// 15 min, 3 d to within 6 h, 30 d to within 6 h, 0.8 %). Finer long windows cost memory: 30 d
/// in 1 h buckets alone would be 720 buckets.
public struct SLOWindowSet: Sendable, Equatable {
    private var tenSeconds = RollingCounter(bucketWidth: 10 * Nanos.second, bucketCount: 30)
    private var minutes = RollingCounter(bucketWidth: Nanos.minute, bucketCount: 120)
    private var quarterHours = RollingCounter(bucketWidth: 15 * Nanos.minute, bucketCount: 96)
    private var sixHours = RollingCounter(bucketWidth: 6 * Nanos.hour, bucketCount: 120)

    public init() {}

    /// Counts `count` events that ended at `now` in every window.
    public mutating func record(good: Bool, count: Int = 1, now: UInt64) {
        tenSeconds.record(good: good, count: count, now: now)
        minutes.record(good: good, count: count, now: now)
        quarterHours.record(good: good, count: count, now: now)
        sixHours.record(good: good, count: count, now: now)
    }

    /// Good and total events in `window` at `now`.
    public func counts(window: SLOWindow, now: UInt64) -> SLOCounts {
        let buckets = Int(window.length / window.resolution)
        switch window.resolution {
        case tenSeconds.bucketWidth: return tenSeconds.counts(lastBuckets: buckets, now: now)
        case minutes.bucketWidth: return minutes.counts(lastBuckets: buckets, now: now)
        case quarterHours.bucketWidth: return quarterHours.counts(lastBuckets: buckets, now: now)
        default: return sixHours.counts(lastBuckets: buckets, now: now)
        }
    }

    /// Bytes of counts held, from the rings' real capacity.
    public var bytes: Int { tenSeconds.bytes + minutes.bytes + quarterHours.bytes + sixHours.bytes }
}
