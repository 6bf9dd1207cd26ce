/// How loudly an objective is failing: `page` wakes someone, `ticket` can wait for the morning.
public enum SLOAlertLevel: String, Sendable, CaseIterable, Comparable {
    case none
    case ticket
    case page

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .none: 0
        case .ticket: 1
        case .page: 2
        }
    }
}

/// One multi-window burn-rate condition (SRE workbook, "Alerting on SLOs", alert 6): it fires
/// when the burn rate is above `threshold` over both `longWindow` and `shortWindow`. The long
/// window says enough budget has gone to matter; the short one says it is still going, so the
/// alert clears within about the short window of the burning stopping instead of the long one.
public struct BurnRateRule: Sendable, Equatable {
    public let level: SLOAlertLevel
    public let longWindow: SLOWindow
    public let shortWindow: SLOWindow
    public let threshold: Double

    public init(level: SLOAlertLevel, longWindow: SLOWindow, shortWindow: SLOWindow, threshold: Double) {
        self.level = level
        self.longWindow = longWindow
        self.shortWindow = shortWindow
        self.threshold = threshold
    }

    /// "1h/5m": the windows, which tell the workbook's rules apart.
    public var name: String { "\(longWindow.rawValue)/\(shortWindow.rawValue)" }

    /// True when both windows burn faster than `threshold`. A window with no events (burn rate
    /// nil) is not burning, so a quiet route never fires.
    public func fires(burnRate: (SLOWindow) -> Double?) -> Bool {
        guard let long = burnRate(longWindow), let short = burnRate(shortWindow) else { return false }
        return long > threshold && short > threshold
    }

    /// The workbook's recommended set for a 30 d budget, each with the workbook's own short
    /// window (1/12 of the long one):
    /// - page at 14.4 over 1 h and 5 m: 2 % of the budget gone in an hour;
    /// - page at 6 over 6 h and 30 m: 5 % in six hours;
    /// - ticket at 3 over 1 d and 2 h: 10 % in a day;
    /// - ticket at 1 over 3 d and 6 h: 10 % in three days, on course to spend it all.
    public static let workbook: [BurnRateRule] = [
        BurnRateRule(level: .page, longWindow: .oneHour, shortWindow: .fiveMinutes, threshold: 14.4),
        BurnRateRule(level: .page, longWindow: .sixHours, shortWindow: .thirtyMinutes, threshold: 6),
        BurnRateRule(level: .ticket, longWindow: .oneDay, shortWindow: .twoHours, threshold: 3),
        BurnRateRule(level: .ticket, longWindow: .threeDays, shortWindow: .sixHours, threshold: 1),
    ]
}

/// The alert state of an objective: the loudest level any rule fires at.
public struct SLOAlert: Sendable, Equatable {
    public let level: SLOAlertLevel
    /// The first rule (in the order given) firing at `level`; nil at `.none`.
    public let rule: BurnRateRule?
    /// Every rule firing, in the order given.
    public let firing: [BurnRateRule]

    public init(rules: [BurnRateRule], burnRate: (SLOWindow) -> Double?) {
        let firing = rules.filter { $0.level != .none && $0.fires(burnRate: burnRate) }
        let level = firing.map(\.level).max() ?? SLOAlertLevel.none
        self.level = level
        self.rule = firing.first { $0.level == level }
        self.firing = firing
    }
}
