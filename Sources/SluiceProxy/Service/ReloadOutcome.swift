#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Atomics
import NIOConcurrencyHelpers

/// What one reload did: for the log, `POST /reload`, /status and /metrics.
public struct ReloadOutcome: Sendable, Equatable {
    public enum Result: String, Sendable {
        /// The new configuration is in force.
        case applied
        /// The file holds the configuration already running: nothing was swapped.
        case unchanged
        /// Refused: the running configuration stays in force.
        case failed
        /// Not taken: the server is still starting, or has begun to stop.
        case stopped
    }

    public let result: Result
    /// The generation in force afterwards.
    public let generation: Int
    /// Why it failed: the file, the key path and what is wrong.
    public let error: String?
    /// What changed, one line per section: `routes: added api2; removed old; changed api`.
    public let changes: [String]
    /// Settings a running process cannot change (`admin` address and port, `event_loops`):
    /// they take effect on the next start.
    public let warnings: [String]

    static let stopped = ReloadOutcome(result: .stopped, generation: 0, error: "the server is starting or stopping", changes: [],
                                       warnings: [])

    /// `{"result":"applied","generation":3,"changes":[...],"warnings":[...]}`
    var json: String {
        var fields = ["\"result\":\"\(result.rawValue)\"", "\"generation\":\(generation)"]
        if let error { fields.append("\"error\":\(AccessLog.quoted(error))") }
        fields.append("\"changes\":[" + changes.map(AccessLog.quoted).joined(separator: ",") + "]")
        fields.append("\"warnings\":[" + warnings.map(AccessLog.quoted).joined(separator: ",") + "]")
        return "{" + fields.joined(separator: ",") + "}\n"
    }
}

/// Every reload's result so far, read by /metrics and /status.
final class ReloadRecord: Sendable {
    let applied = ManagedAtomic<Int>(0)
    let unchanged = ManagedAtomic<Int>(0)
    let failed = ManagedAtomic<Int>(0)
    /// Unix seconds of the last reload that did not fail; the start time until one has run.
    let lastSuccess = ManagedAtomic<Int>(Int(time(nil)))
    let last = NIOLockedValueBox<ReloadOutcome?>(nil)

    func record(_ outcome: ReloadOutcome) {
        switch outcome.result {
        case .applied: applied.wrappingIncrement(ordering: .relaxed)
        case .unchanged: unchanged.wrappingIncrement(ordering: .relaxed)
        case .failed: failed.wrappingIncrement(ordering: .relaxed)
        case .stopped: return
        }
        if outcome.result != .failed { lastSuccess.store(Int(time(nil)), ordering: .relaxed) }
        last.withLockedValue { $0 = outcome }
    }
}
