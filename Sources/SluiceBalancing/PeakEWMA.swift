#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Latency-aware balancing as in Finagle and Linkerd: each backend's cost is a peak-sensitive
/// moving average of its response times, times `inFlight + 1`, divided by its weight; two
/// distinct available backends are drawn at random and the cheaper one wins.
///
/// The estimate: a sample above it replaces it at once, so a backend that turns slow is avoided
/// from its first slow response; a lower sample pulls it toward itself with weight
/// `1 - exp(-Δt / decay)`, Δt being the time since the backend's last sample, so recovery is
/// judged over `decay` of time rather than over a number of requests.
///
/// A backend with no sample yet is taken to answer in `defaultLatency`; its first sample
/// replaces that guess outright, since there is nothing measured to average it with.
///
/// What has not been measured counts as fast: between samples the estimate a pick uses fades
/// toward zero by `exp(-age / decay)`. So a backend avoided after a spike, which gets no
/// samples to correct it, is tried again once its bad news is old, and a backend still at its
/// default gets traffic even when that default is set too high. (Finagle and Linkerd get the
/// same curve by decaying the stored estimate on every read, which also makes a lower
/// sample's weight depend on how often picks happen; here it depends on time alone.)
///
/// Two choices rather than the cheapest of all: O(1) per pick, and balancers on other event
/// loops and instances, with the same stale estimates, do not all rush the backend that looks
/// cheapest; the most expensive backend still never wins.
///
/// Estimates are kept per index, sized from `backends.count` at the first pick and started
/// over (every backend at `defaultLatency`) whenever the count changes. Samples for an index
/// the balancer has not sized are ignored.
public struct PeakEWMA: Balancer {
    private struct Estimate: Sendable {
        var latency: Double
        var updatedAt: UInt64
        var isMeasured: Bool
    }

    private let decayNanoseconds: Double
    private let defaultLatency: Double
    private var estimates: [Estimate] = []

    /// - Parameters:
    ///   - decay: nanoseconds over which old latency fades (the EWMA's time constant); 10 s by
    ///     default, as in Finagle and Linkerd. At least 1.
    ///   - defaultLatency: nanoseconds a backend with no sample yet is assumed to take; 30 ms by
    ///     default, Linkerd's. Best set near the cluster's usual latency. At least 1.
    public init(decay: UInt64 = 10_000_000_000, defaultLatency: UInt64 = 30_000_000) {
        self.decayNanoseconds = Double(max(1, decay))
        self.defaultLatency = Double(max(1, defaultLatency))
    }

    public mutating func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        if estimates.count != backends.count {
            estimates = Array(
                repeating: Estimate(latency: defaultLatency, updatedAt: context.nowNanoseconds, isMeasured: false),
                count: backends.count
            )
        }
        switch drawCandidates(from: backends, random: &random) {
        case .none:
            return nil
        case .one(let only):
            return only
        case .two(let first, let second):
            let now = context.nowNanoseconds
            let secondCost = cost(of: second, backends[second], now: now)
            return secondCost < cost(of: first, backends[first], now: now) ? second : first
        }
    }

    public mutating func observe(backend: Int, latencyNanoseconds: UInt64, nowNanoseconds: UInt64) {
        guard estimates.indices.contains(backend) else { return }
        let sample = Double(latencyNanoseconds)
        let previous = estimates[backend]
        if sample > previous.latency || !previous.isMeasured {
            estimates[backend].latency = sample
            estimates[backend].isMeasured = true
        } else {
            let kept = keptFraction(since: previous.updatedAt, now: nowNanoseconds)
            estimates[backend].latency = sample + kept * (previous.latency - sample)
        }
        estimates[backend].updatedAt = max(previous.updatedAt, nowNanoseconds)
    }

    private func cost(of index: Int, _ backend: BackendView, now: UInt64) -> Double {
        let estimate = estimates[index]
        // Never zero, or in-flight would stop counting once an estimate has faded out.
        let latency = max(1, estimate.latency * keptFraction(since: estimate.updatedAt, now: now))
        return latency * (Double(max(0, backend.inFlight)) + 1) / Double(max(1, backend.weight))
    }

    /// The weight `exp(-Δt / decay)` that what was known at `then` still has at `now`.
    private func keptFraction(since then: UInt64, now: UInt64) -> Double {
        guard now > then else { return 1 }
        return exp(-Double(now - then) / decayNanoseconds)
    }
}
