import SluiceConfig
import SluiceSLO

/// Every route's objectives (`routes[].slo`), fed by each finished request, and their
/// report for `GET /slo`.
final class SLOBook: Sendable {
    private struct Objective: Sendable {
        let name: String
        let tracker: SLOTracker
    }

    private let routes: [String: [Objective]]
    private let order: [String]

    /// With `previous` (a reload), an objective that did not change keeps its tracker, so its
    /// windows and error budget carry on rather than start empty.
    init(config: SluiceConfig, previous: SLOBook? = nil) {
        var routes: [String: [Objective]] = [:]
        for route in config.routes where !route.slo.isEmpty {
            var objectives: [Objective] = []
            func add(_ name: String, _ objective: SLObjective) {
                let kept = previous?.routes[route.name]?.first { $0.name == name && $0.tracker.objective == objective }
                objectives.append(kept ?? Objective(name: name, tracker: SLOTracker(objective: objective)))
            }
            if let percent = route.slo.availability, let objective = SLObjective(target: percent / 100) {
                add("availability", objective)
            }
            if let threshold = route.slo.latencyThreshold, let percent = route.slo.latencyPercent,
               let objective = SLObjective(target: percent / 100, kind: .latency(threshold: threshold.nanoseconds))
            {
                add("latency", objective)
            }
            routes[route.name] = objectives
        }
        self.routes = routes
        order = config.routes.map(\.name).filter { routes[$0] != nil }
    }

    /// Whether any route has an objective: most configurations have none, and then the
    /// data path skips the clock read and the lookup.
    var isEmpty: Bool { routes.isEmpty }

    func record(route: String?, status: Int, durationNanos: UInt64, now: UInt64) {
        guard let route, let objectives = routes[route] else { return }
        for objective in objectives { objective.tracker.record(status: status, duration: durationNanos, now: now) }
    }

    /// `{"routes":[{"route":"api","objectives":[{"name":"availability","target":0.999,...}]}]}`
    func json(now: UInt64) -> String {
        let entries = order.map { route in
            let objectives = (routes[route] ?? []).map { Self.json($0.name, $0.tracker.report(now: now)) }
            return "{\"route\":\(AccessLog.quoted(route)),\"objectives\":[\(objectives.joined(separator: ","))]}"
        }
        return "{\"routes\":[\(entries.joined(separator: ","))]}\n"
    }

    private static func json(_ name: String, _ report: SLOReport) -> String {
        func number(_ value: Double?) -> String {
            guard let value, value.isFinite else { return "null" }
            return "\(value)"
        }
        let windows = report.windows.map { window in
            "{\"window\":\"\(window.window.rawValue)\",\"good\":\(window.good),\"total\":\(window.total),"
                + "\"error_ratio\":\(number(window.errorRatio)),\"burn_rate\":\(number(window.burnRate))}"
        }
        var threshold = ""
        if case .latency(let nanos) = report.objective.kind { threshold = ",\"threshold_ms\":\(Double(nanos) / 1e6)" }
        return "{\"name\":\"\(name)\",\"target\":\(report.objective.target)\(threshold),"
            + "\"error_budget\":\(number(report.errorBudget)),\"budget_remaining\":\(number(report.budgetRemaining)),"
            + "\"allowed_downtime\":\(AccessLog.quoted(report.downtimeSummary)),"
            + "\"allowed_downtime_seconds\":{\"month\":\(Double(report.allowedDowntimePerMonth) / 1e9),"
            + "\"year\":\(Double(report.allowedDowntimePerYear) / 1e9)},"
            + "\"alert\":\"\(report.alert.level.rawValue)\",\"alert_rule\":\(report.alert.rule.map { AccessLog.quoted($0.name) } ?? "null"),"
            + "\"windows\":[\(windows.joined(separator: ","))]}"
    }
}
