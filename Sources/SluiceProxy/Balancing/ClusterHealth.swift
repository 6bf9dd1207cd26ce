import Atomics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SluiceBalancing
import SluiceConfig

/// What every event loop shares about one backend. Read on every pick, so plain atomics;
/// only outlier bookkeeping takes a lock, and only while a failure streak is open.
final class BackendHealth: Sendable {
    let address: String
    let inFlight = ManagedAtomic<Int>(0)
    let pendingConnects = ManagedAtomic<Int>(0)
    /// The active checks' verdict. True until a check says otherwise, as nginx and HAProxy
    /// start, so that traffic flows before the first round of checks.
    let activelyHealthy = ManagedAtomic<Bool>(true)
    /// Monotonic nanoseconds until which outlier detection keeps the backend out; 0 = never ejected.
    let ejectedUntil = ManagedAtomic<UInt64>(0)
    /// When it last came back from an active-check failure, for slow start; 0 = since start.
    let recoveredAt = ManagedAtomic<UInt64>(0)
    /// `drain: true`: no new requests, in-flight ones finish.
    let draining: ManagedAtomic<Bool>
    /// Outlier ejections so far, for /metrics.
    let ejections = ManagedAtomic<Int>(0)
    /// Set by a failure, so that a success takes the outlier lock only when it ends a streak.
    fileprivate let streakOpen = ManagedAtomic<Bool>(false)

    /// `joinedAt` is when a backend added by a reload joined, so slow start ramps it up; 0 for
    /// the backends of the first configuration, which take full traffic at once.
    init(config: BackendConfig, joinedAt: UInt64) {
        address = config.address
        draining = ManagedAtomic(config.drain)
        recoveredAt.store(joinedAt, ordering: .relaxed)
    }

    func isEjected(now: UInt64) -> Bool { ejectedUntil.load(ordering: .relaxed) > now }

    /// The later of its last recovery and its last ejection's end: where slow start begins.
    func availableSince() -> UInt64 {
        max(recoveredAt.load(ordering: .relaxed), ejectedUntil.load(ordering: .relaxed))
    }
}

/// One cluster's health, shared by every event loop: per-backend state and the passive
/// outlier detector (Envoy's consecutive-failure rules) fed by every response.
final class ClusterHealth: Sendable {
    let name: String
    /// The configuration this was built for: a reload with an equal one keeps it as it is.
    let config: ClusterConfig
    let backends: [BackendHealth]
    private let detector: NIOLockedValueBox<OutlierDetector>
    private let logger: Logger

    /// Backends `previous` already had keep their state (in-flight counts, check verdicts,
    /// ejection ends); the outlier counters start over.
    init(config: ClusterConfig, previous: ClusterHealth?, now: UInt64, logger: Logger) {
        name = config.name
        self.config = config
        backends = config.backends.map { backend in
            guard let previous else { return BackendHealth(config: backend, joinedAt: 0) }
            guard let kept = previous.backends.first(where: { $0.address == backend.address }) else {
                return BackendHealth(config: backend, joinedAt: now)
            }
            // Only a change in the file moves the flag: a drain set through the admin API stays.
            let before = previous.config.backends.first { $0.address == backend.address }?.drain
            if before != backend.drain { kept.draining.store(backend.drain, ordering: .relaxed) }
            return kept
        }
        let outlier = config.outlierDetection
        detector = NIOLockedValueBox(OutlierDetector(backendCount: config.backends.count, policy: OutlierPolicy(
            consecutiveServerErrors: outlier.consecutive5xx,
            consecutiveGatewayFailures: outlier.consecutiveGatewayFailures,
            baseEjectionTime: outlier.baseEjectionTime.nanoseconds,
            maxEjectionTime: outlier.maxEjectionTime.nanoseconds,
            maxEjectionPercent: outlier.maxEjectionPercent
        )))
        self.logger = logger
    }

    /// Feeds outlier detection with how one try ended.
    func record(_ outcome: UpstreamOutcome, backend index: Int, now: UInt64) {
        let backend = backends[index]
        if outcome == .success, !backend.streakOpen.load(ordering: .relaxed) { return }
        let event = detector.withLockedValue { $0.record(outcome, backend: index, now: now) }
        backend.streakOpen.store(outcome != .success, ordering: .relaxed)
        switch event {
        case .ejected(_, let reason, let until)?:
            backend.ejectedUntil.store(until, ordering: .relaxed)
            backend.ejections.wrappingIncrement(ordering: .relaxed)
            let seconds = Double(until - now) / 1e9
            logger.warning("backend ejected", metadata: [
                "cluster": "\(name)", "backend": "\(backend.address)", "reason": "\(reason)", "seconds": "\(seconds)",
            ])
        case .ejectionSkipped(_, let reason)?:
            logger.info("backend is an outlier but max_ejection_percent keeps it in rotation", metadata: [
                "cluster": "\(name)", "backend": "\(backend.address)", "reason": "\(reason)",
            ])
        case nil:
            break
        }
    }

    /// An active check brought the backend back: its outlier record starts clean.
    func activeCheckRecovered(backend index: Int, now: UInt64) {
        detector.withLockedValue { $0.reset(backend: index) }
        backends[index].ejectedUntil.store(0, ordering: .relaxed)
        backends[index].recoveredAt.store(now, ordering: .relaxed)
    }

    /// Per-backend outlier state, for logs and the admin API.
    func outlierState(of index: Int, now: UInt64) -> OutlierBackendState {
        detector.withLockedValue { $0.state(of: index, now: now) }
    }
}

/// Every cluster's shared health, kept across snapshots, so that a reload forgets neither
/// ejections nor check results, and a backend it adds starts slow.
final class HealthRegistry: Sendable {
    private let clusters = NIOLockedValueBox<[String: ClusterHealth]>([:])

    /// Every cluster's health, by name, for /metrics.
    var all: [ClusterHealth] { clusters.withLockedValue { $0.values.sorted { $0.name < $1.name } } }
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    /// Forgets the clusters a reload removed (a cluster added back later starts fresh).
    func retain(_ names: Set<String>) {
        clusters.withLockedValue { clusters in clusters = clusters.filter { names.contains($0.key) } }
    }

    func health(for config: ClusterConfig) -> ClusterHealth {
        clusters.withLockedValue { clusters in
            let known = clusters[config.name]
            if let known, known.config == config { return known }
            let health = ClusterHealth(config: config, previous: known, now: NIODeadline.now().uptimeNanoseconds, logger: logger)
            clusters[config.name] = health
            return health
        }
    }
}
