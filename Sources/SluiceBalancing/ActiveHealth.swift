/// A change of a backend's health, reported once when it happens.
public enum HealthTransition: Sendable, Equatable {
    case becameHealthy
    case becameUnhealthy
}

/// HAProxy's rise/fall for one backend's active health checks: `fall` consecutive failed checks
/// take a healthy backend down, `rise` consecutive passed checks bring an unhealthy one back.
/// A check that disagrees with the run in progress starts it over, so a flapping backend
/// never changes state.
public struct ActiveHealthState: Sendable, Equatable {
    /// Consecutive passes needed to become healthy, at least 1.
    public let rise: Int
    /// Consecutive failures needed to become unhealthy, at least 1.
    public let fall: Int
    public private(set) var isHealthy: Bool
    /// Length of the current run of passes (while unhealthy) or failures (while healthy), for
    /// the admin API. Checks that agree with the current state leave it at 0.
    public private(set) var streak = 0

    public init(rise: Int, fall: Int, startsHealthy: Bool = true) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        self.isHealthy = startsHealthy
    }

    /// Records one check result; returns the transition it caused, if any.
    public mutating func record(passed: Bool) -> HealthTransition? {
        // A result that agrees with the current state breaks any run towards the other one.
        guard passed != isHealthy else {
            streak = 0
            return nil
        }
        streak += 1
        guard streak >= (isHealthy ? fall : rise) else { return nil }
        streak = 0
        isHealthy = passed
        return passed ? .becameHealthy : .becameUnhealthy
    }
}
