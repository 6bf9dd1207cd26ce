import Testing
import SluiceBalancing

/// How many times each backend is picked in `count` picks over the same views at `now`.
private func pickCounts(
    _ balancer: inout some Balancer,
    _ backends: [BackendView],
    count: Int,
    now: UInt64 = 0,
    seed: UInt64 = 42
) -> [Int] {
    var random = SeededRandom(seed: seed)
    var counts = Array(repeating: 0, count: backends.count)
    for _ in 0..<count {
        if let index = balancer.pick(from: backends, context: PickContext(nowNanoseconds: now), random: &random) {
            counts[index] += 1
        }
    }
    return counts
}

private func loads(_ inFlight: [Int]) -> [BackendView] {
    inFlight.map { BackendView(inFlight: $0) }
}

private let millisecond: UInt64 = 1_000_000
private let second: UInt64 = 1_000_000_000

/// A discrete-event run on a simulated clock: one request every millisecond; backend `i`
/// answers each request `latencies[i]` after it is sent, holding it in flight until then and
/// reporting the latency to the balancer when it completes. Returns the picks per backend.
private func simulatedPicks(_ balancer: inout some Balancer, latencies: [UInt64], requests: Int) -> [Int] {
    var random = SeededRandom(seed: 11)
    var views = latencies.map { _ in BackendView() }
    var counts = latencies.map { _ in 0 }
    // Per backend, completion times in order (latency is constant per backend).
    var completions = latencies.map { _ in [UInt64]() }
    var completed = latencies.map { _ in 0 }
    for request in 0..<requests {
        let now = UInt64(request) * millisecond
        for backend in latencies.indices {
            while completed[backend] < completions[backend].count, completions[backend][completed[backend]] <= now {
                let finishedAt = completions[backend][completed[backend]]
                balancer.observe(backend: backend, latencyNanoseconds: latencies[backend], nowNanoseconds: finishedAt)
                completed[backend] += 1
                views[backend].inFlight -= 1
            }
        }
        guard let chosen = balancer.pick(from: views, context: PickContext(nowNanoseconds: now), random: &random) else {
            continue
        }
        counts[chosen] += 1
        views[chosen].inFlight += 1
        completions[chosen].append(now + latencies[chosen])
    }
    return counts
}

/// Five backends answering in 5 ms, the last in 50 ms; 20,000 requests over 20 simulated s.
private let slowClusterLatencies: [UInt64] = [5, 5, 5, 5, 50].map { $0 * millisecond }
private let slowClusterRequests = 20_000

@Suite struct LeastConnectionsTests {
    @Test func picksTheLeastInFlight() {
        var balancer = LeastConnections()
        #expect(pickCounts(&balancer, loads([3, 1, 4, 2]), count: 50) == [0, 50, 0, 0])
        var backends = loads([0, 2, 1])
        backends[0].isAvailable = false
        #expect(pickCounts(&balancer, backends, count: 50) == [0, 0, 50])
    }

    @Test func comparesInFlightPlusOneOverWeight() {
        var balancer = LeastConnections()
        // 1/1 against 2/10: the heavy backend wins although it is busier (inFlight/weight alone
        // would say 0 against 0.1 and pick the light one).
        let idleLightAndBusyHeavy = [BackendView(weight: 1, inFlight: 0), BackendView(weight: 10, inFlight: 1)]
        #expect(pickCounts(&balancer, idleLightAndBusyHeavy, count: 20) == [0, 20])
        // 6/3 = 2, 2/1 = 2, 3/2 = 1.5.
        let mixed = [BackendView(weight: 3, inFlight: 5), BackendView(weight: 1, inFlight: 1), BackendView(weight: 2, inFlight: 2)]
        #expect(pickCounts(&balancer, mixed, count: 20) == [0, 0, 20])
    }

    @Test func spreadsTiesUniformly() {
        var balancer = LeastConnections()
        let idle = pickCounts(&balancer, loads([0, 0, 0, 0, 0]), count: 10_000)
        #expect(chiSquare(observed: idle, expectedShares: [1, 1, 1, 1, 1]) < 18.467)  // 99.9%, 4 df
        // Two tied backends next to eight busier ones: a rotating start would give backend 0
        // nine picks in ten.
        let twoTied = pickCounts(&balancer, loads([0, 0, 3, 3, 3, 3, 3, 3, 3, 3]), count: 10_000)
        #expect(twoTied[0] + twoTied[1] == 10_000)
        #expect(chiSquare(observed: [twoTied[0], twoTied[1]], expectedShares: [1, 1]) < 10.828)  // 99.9%, 1 df
    }

    @Test func hugeCountsAndWeightsDoNotOverflow() {
        var balancer = LeastConnections()
        // Exact below the 2^32 - 1 cap: 4e9+1 / 4e9 against 4e9 / 4e9.
        let huge = [
            BackendView(weight: 4_000_000_000, inFlight: 4_000_000_000),
            BackendView(weight: 4_000_000_000, inFlight: 3_999_999_999),
            BackendView(weight: 1, inFlight: .max),
            BackendView(weight: .max, inFlight: .max),
        ]
        #expect(pickCounts(&balancer, huge, count: 10) == [0, 10, 0, 0])
    }
}

@Suite struct PowerOfTwoTests {
    @Test func picksTheLighterOfTwo() {
        var balancer = PowerOfTwo()
        #expect(pickCounts(&balancer, loads([3, 1]), count: 100) == [0, 100])
        // 3/4 against 1/1.
        let weightedLighter = [BackendView(weight: 4, inFlight: 2), BackendView(weight: 1, inFlight: 0)]
        #expect(pickCounts(&balancer, weightedLighter, count: 100) == [100, 0])
    }

    @Test func comparesTwoDistinctUniformlyDrawnBackends() {
        // Five available backends (among eight) with distinct loads: over uniform distinct
        // pairs, the k-th lightest wins in (4 - k) of the 10 pairs, and the heaviest never
        // (it would, were a backend ever compared with itself).
        var balancer = PowerOfTwo()
        let inFlight = [0, 7, 3, 0, 9, 1, 0, 4]
        var backends = loads(inFlight)
        for out in [0, 3, 6] { backends[out].isAvailable = false }
        let counts = pickCounts(&balancer, backends, count: 100_000)
        for out in [0, 3, 6] { #expect(counts[out] == 0) }
        #expect(counts[4] == 0)
        let lightestFirst = [5, 2, 7, 1].map { counts[$0] }
        #expect(chiSquare(observed: lightestFirst, expectedShares: [4, 3, 2, 1]) < 16.266)  // 99.9%, 3 df
    }

    @Test func steersAwayFromASlowBackend() {
        var roundRobin = RoundRobin()
        let even = simulatedPicks(&roundRobin, latencies: slowClusterLatencies, requests: slowClusterRequests)
        #expect(even[4] == slowClusterRequests / 5)

        var balancer = PowerOfTwo()
        let counts = simulatedPicks(&balancer, latencies: slowClusterLatencies, requests: slowClusterRequests)
        // Under half of round robin's 1/5.
        #expect(Double(counts[4]) / Double(slowClusterRequests) < 0.10)
    }
}

@Suite struct PeakEWMATests {
    /// A balancer sized for `count` backends at time 0, with `latencies` (by index) observed at
    /// `now`.
    private func balancer(count: Int, observing latencies: [Int: UInt64] = [:], now: UInt64 = 0) -> PeakEWMA {
        var balancer = PeakEWMA()
        var random = SeededRandom()
        _ = balancer.pick(from: loads(Array(repeating: 0, count: count)), context: PickContext(), random: &random)
        for (backend, latency) in latencies {
            balancer.observe(backend: backend, latencyNanoseconds: latency, nowNanoseconds: now)
        }
        return balancer
    }

    @Test func unmeasuredBackendCountsAtTheDefaultLatency() {
        // 20 ms, unmeasured (default 30 ms), 40 ms: over the three pairs, the first wins two,
        // the unmeasured one one (against 40 ms), the slowest none. Had the 20 ms sample been
        // averaged with the default instead of replacing it, backends 0 and 1 would tie.
        var peak = balancer(count: 3, observing: [0: 20 * millisecond, 2: 40 * millisecond])
        let counts = pickCounts(&peak, loads([0, 0, 0]), count: 3_000)
        #expect(counts[2] == 0)
        #expect((1_800...2_200).contains(counts[0]))
        #expect((800...1_200).contains(counts[1]))
    }

    @Test func costIsLatencyTimesInFlightPlusOneOverWeight() {
        let equal: [Int: UInt64] = [0: 10 * millisecond, 1: 10 * millisecond]
        var peak = balancer(count: 2, observing: equal)
        #expect(pickCounts(&peak, loads([2, 1]), count: 100) == [0, 100])
        // 10 ms * 3 / 4 against 10 ms * 1 / 1.
        let weighted = [BackendView(weight: 4, inFlight: 2), BackendView(weight: 1, inFlight: 0)]
        #expect(pickCounts(&peak, weighted, count: 100) == [100, 0])
        // 10 ms * 2 against 25 ms * 1.
        peak.observe(backend: 1, latencyNanoseconds: 25 * millisecond, nowNanoseconds: 0)
        #expect(pickCounts(&peak, loads([1, 0]), count: 100) == [100, 0])
    }

    @Test func aSpikeIsAvoidedAtOnceAndForgivenByLaterFastSamples() {
        // Backend 0 idle, 1 and 2 with one request each; all answer in 1 ms. Backend 0, cheapest
        // (1 ms * 1 against 1 ms * 2), wins every pair it is in: two picks in three.
        let views = loads([0, 1, 1])
        let fast: [Int: UInt64] = [0: millisecond, 1: millisecond, 2: millisecond]
        var peak = balancer(count: 3, observing: fast)
        #expect(pickCounts(&peak, views, count: 3_000)[0] > 1_800)

        // One 100 ms answer replaces its estimate at once.
        peak.observe(backend: 0, latencyNanoseconds: 100 * millisecond, nowNanoseconds: 0)
        #expect(pickCounts(&peak, views, count: 3_000)[0] == 0)

        // Then 1 ms answers from all three every simulated second: after 10 s (one decay time)
        // the spike still weighs e^-1, about 37 ms, and backend 0 is still avoided; after 60 s it
        // weighs e^-6 (0.25 ms), below the others' 2 ms, and backend 0 wins again.
        var now: UInt64 = 0
        func fastSamples(forSeconds seconds: UInt64) {
            for _ in 0..<seconds {
                now += second
                for backend in 0..<3 { peak.observe(backend: backend, latencyNanoseconds: millisecond, nowNanoseconds: now) }
            }
        }
        fastSamples(forSeconds: 10)
        #expect(pickCounts(&peak, views, count: 3_000, now: now)[0] == 0)
        fastSamples(forSeconds: 50)
        #expect(pickCounts(&peak, views, count: 3_000, now: now)[0] > 1_800)
    }

    @Test func anAvoidedBackendIsRetriedOnceItsSpikeIsOld() {
        // Backend 0 answered once in 100 ms and, avoided since, gets no samples to correct it;
        // the others keep answering in 1 ms. Its estimate fades by e^(-age / 10 s).
        let views = loads([0, 0, 0])
        var peak = balancer(count: 3, observing: [0: 100 * millisecond, 1: millisecond, 2: millisecond])
        func othersAnswer(at now: UInt64) {
            for backend in 1..<3 { peak.observe(backend: backend, latencyNanoseconds: millisecond, nowNanoseconds: now) }
        }
        othersAnswer(at: 10 * second)
        // e^-1 * 100 ms = 37 ms.
        #expect(pickCounts(&peak, views, count: 3_000, now: 10 * second)[0] == 0)
        othersAnswer(at: 60 * second)
        // e^-6 * 100 ms = 0.25 ms.
        #expect(pickCounts(&peak, views, count: 3_000, now: 60 * second)[0] > 1_800)
    }

    @Test func startsOverWhenTheBackendCountChanges() {
        var peak = balancer(count: 3, observing: [0: 100 * millisecond, 1: millisecond, 2: millisecond])
        #expect(pickCounts(&peak, loads([0, 0, 0]), count: 1_000)[0] == 0)
        // Four backends: every estimate back at the default, so the picks are even again.
        let counts = pickCounts(&peak, loads([0, 0, 0, 0]), count: 4_000)
        #expect(chiSquare(observed: counts, expectedShares: [1, 1, 1, 1]) < 16.266)  // 99.9%, 3 df
    }

    @Test func ignoresSamplesForUnknownBackends() {
        var peak = PeakEWMA()
        peak.observe(backend: 0, latencyNanoseconds: second, nowNanoseconds: 0)  // before any pick
        peak.observe(backend: -1, latencyNanoseconds: second, nowNanoseconds: 0)
        var sized = balancer(count: 2, observing: [2: second, 7: second])
        let counts = pickCounts(&sized, loads([0, 0]), count: 2_000)
        #expect(chiSquare(observed: counts, expectedShares: [1, 1]) < 10.828)  // 99.9%, 1 df
        let fresh = pickCounts(&peak, loads([0, 0]), count: 2_000)
        #expect(chiSquare(observed: fresh, expectedShares: [1, 1]) < 10.828)
    }

    @Test func steersAwayFromASlowBackend() {
        var balancer = PeakEWMA()
        let counts = simulatedPicks(&balancer, latencies: slowClusterLatencies, requests: slowClusterRequests)
        // A hundredth: a twentieth of round robin's 1/5 (power of two gives it about 1/20 here).
        #expect(Double(counts[4]) / Double(slowClusterRequests) < 0.01)
    }
}
