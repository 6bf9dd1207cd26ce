/// A route's service level objective: the share of requests that must be good (`target`, e.g.
/// 0.999) and what makes one good (`kind`).
///
/// Events, not time: the objective is met when good / total ≥ `target` over the 30 d window,
/// so the error budget is `1 − target` of the requests served, whatever the traffic. The
/// allowed downtime figures translate that budget into time as if traffic were steady.
public struct SLObjective: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Good unless the final status is a 5xx (500–599), whoever wrote it: Sluice's own 502
        /// (backend failed), 504 (backend timeout) and 503 (no backend available, rate-limit
        /// store down, drain timeout) are failures the client saw. Everything else is good:
        /// 4xx are the client's (a 429 is a client over its quota, not an outage).
        case availability
        /// Good when the request took less than `threshold` nanoseconds as the caller measures it
        /// (request head in to last response byte out). The status does not matter: a fast
        /// 5xx is the availability objective's to count, so one failure never spends two budgets.
        case latency(threshold: UInt64)
    }

    /// The spans `allowedDowntime(per:)` speaks of.
    public enum Period: String, Sendable, CaseIterable {
        /// A twelfth of a 365.25-day year: 30.4375 days (2,629,800 s). This is the month behind
        /// the figure everyone quotes, "three nines = 43.8 min/month" (43.83 min); a 30-day
        /// month gives 43.2 min and is `thirtyDays`.
        case month
        /// The 30 d window the budget and burn rates are computed over.
        case thirtyDays = "30d"
        /// 365 days: 8.76 h at 99.9 %.
        case year

        /// The span in nanoseconds.
        public var length: UInt64 {
            switch self {
            case .month: 2_629_800 * Nanos.second
            case .thirtyDays: 30 * Nanos.day
            case .year: 365 * Nanos.day
            }
        }
    }

    /// The share of requests that must be good, strictly between 0 and 1.
    public let target: Double
    public let kind: Kind
    /// 1 − target in parts per 10¹², rounded: a target is honoured to 12 decimal places, which
    /// makes 1 − 0.99999 exactly 10⁻⁵ rather than the binary 0.99999's 9.99999999995e-6, so
    /// downtime figures come out exact and a burn rate at the budget is exactly 1.
    private let budgetParts: UInt64
    private static let parts: UInt64 = 1_000_000_000_000

    /// nil unless 0 < `target` < 1 with at least 10⁻¹² left as budget (a target of 1 would divide
    /// every burn rate by zero) and, for latency, the threshold is above 0 ns.
    public init?(target: Double, kind: Kind = .availability) {
        guard target > 0, target < 1 else { return nil }
        let budgetParts = UInt64(((1 - target) * Double(Self.parts)).rounded())
        guard budgetParts > 0 else { return nil }
        if case .latency(let threshold) = kind, threshold == 0 { return nil }
        self.target = target
        self.kind = kind
        self.budgetParts = budgetParts
    }

    /// The share of requests allowed to be bad: `1 − target`, to 12 decimal places.
    public var errorBudget: Double { Double(budgetParts) / Double(Self.parts) }

    /// Whether a request with this final status and duration (nanoseconds) meets the objective.
    public func isGood(status: Int, duration: UInt64) -> Bool {
        switch kind {
        case .availability: !(500...599).contains(status)
        case .latency(let threshold): duration < threshold
        }
    }

    /// How long every request could fail within `period` and the objective still hold, in
    /// nanoseconds, rounded to the nearest: 2,592 s (43.2 min) per 30 days at 99.9 %, 2,629.8 s
    /// (43.83 min) per average month, 31,536 s (8.76 h) per year.
    public func allowedDowntime(per period: Period) -> UInt64 {
        // In integers, so exact: length × parts needs 128 bits (a year × 10¹² is 3 × 10²⁸).
        let product = period.length.multipliedFullWidth(by: budgetParts)
        let (quotient, remainder) = Self.parts.dividingFullWidth(product)
        return remainder * 2 >= Self.parts ? quotient + 1 : quotient
    }

    /// `allowedDowntime(per:)` to three significant figures in the largest unit that fits:
    /// "43.8 min" per month at 99.9 %, "8.76 h" per year.
    public func allowedDowntimeText(per period: Period) -> String {
        Self.describe(allowedDowntime(per: period))
    }

    /// "43.8 min/month, 8.76 h/year": the objective as people quote it.
    public var downtimeSummary: String {
        [Period.month, .year].map { "\(allowedDowntimeText(per: $0))/\($0.rawValue)" }.joined(separator: ", ")
    }

    /// Nanoseconds (up to a year's worth) as three significant figures of d, h, min, s or ms.
    static func describe(_ nanoseconds: UInt64) -> String {
        let units: [(length: UInt64, name: String)] = [
            (Nanos.day, "d"), (Nanos.hour, "h"), (Nanos.minute, "min"), (Nanos.second, "s"), (Nanos.millisecond, "ms"),
        ]
        let unit = units.first { nanoseconds >= $0.length } ?? units[units.count - 1]
        let whole = nanoseconds / unit.length
        let decimals = whole >= 100 ? 0 : whole >= 10 ? 1 : 2
        let scale: UInt64 = decimals == 0 ? 1 : decimals == 1 ? 10 : 100
        // Half up, in integers: a year is 3.2 × 10¹⁶ ns, so × 100 stays far inside UInt64.
        let scaled = (nanoseconds * scale + unit.length / 2) / unit.length
        var text = String(scaled / scale)
        if decimals > 0 {
            let fraction = String(scaled % scale)
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return text + " " + unit.name
    }
}

/// Nanosecond lengths of the units the windows and periods are built from.
enum Nanos {
    static let millisecond: UInt64 = 1_000_000
    static let second: UInt64 = 1_000_000_000
    static let minute: UInt64 = 60 * second
    static let hour: UInt64 = 60 * minute
    static let day: UInt64 = 24 * hour
}
