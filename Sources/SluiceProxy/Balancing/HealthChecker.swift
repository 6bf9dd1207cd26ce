import Atomics
import Logging
import NIOCore
import SluiceBalancing
import SluiceConfig

/// Active health checks of one cluster, every backend probed every `interval` plus up to
/// `jitter`, on one event loop. `rise`/`fall` (ActiveHealthState) turn probe results into the
/// shared `activelyHealthy` flag; a recovery also clears an outlier ejection and starts slow start.
final class HealthChecker {
    private let config: ClusterConfig
    private let check: HealthCheckConfig
    private let health: ClusterHealth
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let tls: UpstreamTLS?
    private var states: [ActiveHealthState]
    private var timers: [Scheduled<Void>?]
    private var stopped = false
    private var random = SystemRandomNumberGenerator()

    init(config: ClusterConfig, check: HealthCheckConfig, health: ClusterHealth, eventLoop: any EventLoop, logger: Logger,
         tls: UpstreamTLS? = nil) {
        self.tls = tls
        self.config = config
        self.check = check
        self.health = health
        self.eventLoop = eventLoop
        self.logger = logger
        states = config.backends.map { _ in ActiveHealthState(rise: check.rise, fall: check.fall) }
        timers = Array(repeating: nil, count: config.backends.count)
    }

    /// First probes at once (spread by jitter), so a dead backend is known within one round.
    func start() {
        eventLoop.preconditionInEventLoop()
        for index in config.backends.indices { schedule(index, after: jitter()) }
    }

    func stop() {
        eventLoop.preconditionInEventLoop()
        stopped = true
        for timer in timers { timer?.cancel() }
    }

    private func jitter() -> TimeAmount {
        let nanos = check.jitter.nanoseconds
        return .nanoseconds(Int64(nanos == 0 ? 0 : UInt64.random(in: 0...nanos, using: &random)))
    }

    private func schedule(_ index: Int, after delay: TimeAmount) {
        guard !stopped else { return }
        timers[index] = eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in self?.probe(index) }
    }

    private func probe(_ index: Int) {
        guard !stopped else { return }
        HealthProbe.run(check, backend: config.backends[index], tls: tls, http2: config.http2 != nil, on: eventLoop) { [weak self] verdict in
            guard let self, !self.stopped else { return }
            self.record(verdict, backend: index)
            self.schedule(index, after: TimeAmount(self.check.interval) + self.jitter())
        }
    }

    private func record(_ verdict: HealthProbe.Verdict, backend index: Int) {
        let address = config.backends[index].address
        switch states[index].record(passed: verdict.passed) {
        case .becameUnhealthy?:
            health.backends[index].activelyHealthy.store(false, ordering: .relaxed)
            logger.warning("backend failed its health check", metadata: [
                "cluster": "\(config.name)", "backend": "\(address)", "reason": "\(verdict.reason)", "fall": "\(check.fall)",
            ])
        case .becameHealthy?:
            health.activeCheckRecovered(backend: index, now: NIODeadline.now().uptimeNanoseconds)
            health.backends[index].activelyHealthy.store(true, ordering: .relaxed)
            logger.notice("backend passed its health check again", metadata: [
                "cluster": "\(config.name)", "backend": "\(address)", "rise": "\(check.rise)",
            ])
        case nil:
            break
        }
    }
}
