/// How one request to a backend ended, as outlier detection counts it.
public enum UpstreamOutcome: Sendable, Equatable {
    /// A response that is not a 5xx.
    case success
    /// A 5xx response from the backend.
    case serverError
    /// The connection could not be established.
    case connectFailure
    /// Connecting or the response took too long.
    case timeout
    /// The connection was reset or closed before a complete response.
    case reset
}

/// Which rule found a backend to be an outlier.
public enum OutlierReason: Sendable, Equatable {
    case consecutiveServerErrors
    case consecutiveGatewayFailures
}

/// What `OutlierDetector.record` did, for the data path to act on and log.
public enum OutlierEvent: Sendable, Equatable {
    /// The backend is out of rotation until `until` (monotonic nanoseconds).
    case ejected(backend: Int, reason: OutlierReason, until: UInt64)
    /// The backend is an outlier but stays in rotation: ejecting it would take more than
    /// `maxEjectionPercent` of the cluster out (Envoy's ejections_overflow).
    case ejectionSkipped(backend: Int, reason: OutlierReason)
}

/// Envoy's consecutive-failure outlier detection settings. Times are nanoseconds.
public struct OutlierPolicy: Sendable, Equatable {
    /// Consecutive 5xx before ejection; connect failures, timeouts and resets count too, as the
    /// proxy answers them with a 502/503/504 of its own. 0 disables the rule.
    public var consecutiveServerErrors: Int
    /// Consecutive connect failures, timeouts and resets before ejection; a response of any
    /// kind ends the run. 0 disables the rule.
    public var consecutiveGatewayFailures: Int
    /// The first ejection's length; each further one doubles it.
    public var baseEjectionTime: UInt64
    /// The longest an ejection lasts (never less than `baseEjectionTime`).
    public var maxEjectionTime: UInt64
    /// The most of the cluster that may be ejected at once, in percent, rounded down; one
    /// backend may always be ejected, however small the cluster or the percentage.
    public var maxEjectionPercent: Int

    public init(
        consecutiveServerErrors: Int = 5,
        consecutiveGatewayFailures: Int = 5,
        baseEjectionTime: UInt64 = 30_000_000_000,
        maxEjectionTime: UInt64 = 300_000_000_000,
        maxEjectionPercent: Int = 10
    ) {
        self.consecutiveServerErrors = consecutiveServerErrors
        self.consecutiveGatewayFailures = consecutiveGatewayFailures
        self.baseEjectionTime = baseEjectionTime
        self.maxEjectionTime = maxEjectionTime
        self.maxEjectionPercent = maxEjectionPercent
    }

    /// How long the `ejectionCount`th ejection (1 for the first) lasts:
    /// base × 2^(ejectionCount − 1), capped at `maxEjectionTime`.
    public func ejectionTime(forEjection ejectionCount: Int) -> UInt64 {
        let cap = max(maxEjectionTime, baseEjectionTime)
        let doublings = max(0, ejectionCount - 1)
        guard doublings < UInt64.bitWidth, baseEjectionTime <= cap >> UInt64(doublings) else { return cap }
        return baseEjectionTime << UInt64(doublings)
    }

    /// The ejection count past which ejections stop growing, so that decay starts from where
    /// the time stopped doubling instead of from an ever larger count.
    var largestUsefulEjectionCount: Int {
        var count = 1
        while ejectionTime(forEjection: count) < max(maxEjectionTime, baseEjectionTime), count < 64 { count += 1 }
        return count
    }
}

/// One backend's outlier state, for the admin API.
public struct OutlierBackendState: Sendable, Equatable {
    public var consecutiveServerErrors: Int
    public var consecutiveGatewayFailures: Int
    /// Ejections that still lengthen the next one, after decay.
    public var ejectionCount: Int
    /// When the current ejection ends; nil when the backend is not ejected.
    public var ejectedUntil: UInt64?

    public init(
        consecutiveServerErrors: Int = 0,
        consecutiveGatewayFailures: Int = 0,
        ejectionCount: Int = 0,
        ejectedUntil: UInt64? = nil
    ) {
        self.consecutiveServerErrors = consecutiveServerErrors
        self.consecutiveGatewayFailures = consecutiveGatewayFailures
        self.ejectionCount = ejectionCount
        self.ejectedUntil = ejectedUntil
    }
}

/// Envoy-style passive health for one cluster of `backendCount` backends: a backend that fails
/// too many requests in a row is ejected, for longer each time it happens again.
///
/// - Ejection: when a run of failures reaches its threshold the run starts over and the backend
///   is ejected, unless that would leave more than `maxEjectionPercent` of the cluster ejected
///   (one backend may always be). Outcomes of requests to an ejected backend (panic mode
///   still sends some) are ignored.
/// - Return: `isEjected` turns false as soon as the ejection time has passed; `expire` reports
///   each returned backend once, so the data path can start slow start and log it.
/// - Decay: every `baseEjectionTime` a backend spends out of ejection takes one off its
///   ejection count, so a backend that fails again soon is ejected for longer and one that
///   behaved for a while starts over at the base time.
public struct OutlierDetector: Sendable, Equatable {
    private struct Slot: Sendable, Equatable {
        var consecutiveServerErrors = 0
        var consecutiveGatewayFailures = 0
        /// Set by an ejection, cleared when `expire` reports the return; the ejection itself
        /// ends at `ejectedUntil` whether or not anyone has looked.
        var awaitingReturn = false
        /// The ejection count as the last ejection left it; decay counts from `ejectedUntil`.
        var ejectionCount = 0
        /// The end of the current or last ejection; nil when never ejected.
        var ejectedUntil: UInt64?
    }

    public let policy: OutlierPolicy
    private var slots: [Slot]

    public init(backendCount: Int, policy: OutlierPolicy = OutlierPolicy()) {
        self.policy = policy
        self.slots = Array(repeating: Slot(), count: max(0, backendCount))
    }

    public var backendCount: Int { slots.count }

    /// Counts one request's outcome; returns an event when it made the backend an outlier.
    public mutating func record(_ outcome: UpstreamOutcome, backend: Int, now: UInt64) -> OutlierEvent? {
        guard slots.indices.contains(backend), !isEjected(backend, now: now) else { return nil }
        switch outcome {
        case .success:
            slots[backend].consecutiveServerErrors = 0
            slots[backend].consecutiveGatewayFailures = 0
            return nil
        case .serverError:
            slots[backend].consecutiveServerErrors += 1
            slots[backend].consecutiveGatewayFailures = 0
        case .connectFailure, .timeout, .reset:
            slots[backend].consecutiveServerErrors += 1
            slots[backend].consecutiveGatewayFailures += 1
        }
        let reason: OutlierReason
        if Self.reached(slots[backend].consecutiveGatewayFailures, policy.consecutiveGatewayFailures) {
            reason = .consecutiveGatewayFailures
        } else if Self.reached(slots[backend].consecutiveServerErrors, policy.consecutiveServerErrors) {
            reason = .consecutiveServerErrors
        } else {
            return nil
        }
        // Both runs start over: the backend gets a clean slate whether ejected or not.
        slots[backend].consecutiveServerErrors = 0
        slots[backend].consecutiveGatewayFailures = 0
        guard ejectedCount(now: now) < maxEjected else {
            return .ejectionSkipped(backend: backend, reason: reason)
        }
        let count = min(decayedEjectionCount(backend, now: now) + 1, policy.largestUsefulEjectionCount)
        let until = now &+ policy.ejectionTime(forEjection: count)
        slots[backend].ejectionCount = count
        slots[backend].ejectedUntil = until
        // An earlier return that `expire` has not collected yet is superseded by this ejection.
        slots[backend].awaitingReturn = true
        return .ejected(backend: backend, reason: reason, until: until)
    }

    /// Whether `backend` is out of rotation at `now`.
    public func isEjected(_ backend: Int, now: UInt64) -> Bool {
        guard slots.indices.contains(backend), slots[backend].awaitingReturn,
              let until = slots[backend].ejectedUntil else { return false }
        return now < until
    }

    /// The backends whose ejection has ended since the last call, each reported once, in
    /// index order. Call it regularly (e.g. with each pick, or on a timer): it is cheap.
    public mutating func expire(now: UInt64) -> [Int] {
        var returned: [Int] = []
        for backend in slots.indices where slots[backend].awaitingReturn {
            guard let until = slots[backend].ejectedUntil, until <= now else { continue }
            slots[backend].awaitingReturn = false
            returned.append(backend)
        }
        return returned
    }

    /// Forgets everything about `backend`, ejection history included, when an active check or
    /// the admin brings it back. `expire` does not report it: the caller already knows.
    public mutating func reset(backend: Int) {
        guard slots.indices.contains(backend) else { return }
        slots[backend] = Slot()
    }

    /// Backends ejected at `now`.
    public func ejectedCount(now: UInt64) -> Int {
        slots.indices.reduce(0) { $0 + (isEjected($1, now: now) ? 1 : 0) }
    }

    /// `backend`'s state at `now`, for the admin API; `backend` must be in 0..<backendCount.
    public func state(of backend: Int, now: UInt64) -> OutlierBackendState {
        let slot = slots[backend]
        return OutlierBackendState(
            consecutiveServerErrors: slot.consecutiveServerErrors,
            consecutiveGatewayFailures: slot.consecutiveGatewayFailures,
            ejectionCount: decayedEjectionCount(backend, now: now),
            ejectedUntil: isEjected(backend, now: now) ? slot.ejectedUntil : nil
        )
    }

    /// The most backends that may be ejected at once.
    public var maxEjected: Int {
        max(1, slots.count * max(0, policy.maxEjectionPercent) / 100)
    }

    private static func reached(_ count: Int, _ threshold: Int) -> Bool {
        threshold > 0 && count >= threshold
    }

    private func decayedEjectionCount(_ backend: Int, now: UInt64) -> Int {
        let slot = slots[backend]
        guard let until = slot.ejectedUntil else { return 0 }
        // No decay while ejected.
        guard now >= until else { return slot.ejectionCount }
        guard policy.baseEjectionTime > 0 else { return 0 }
        let intervals = (now - until) / policy.baseEjectionTime
        return intervals >= UInt64(slot.ejectionCount) ? 0 : slot.ejectionCount - Int(intervals)
    }
}
