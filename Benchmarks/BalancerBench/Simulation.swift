#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SluiceBalancing

// A discrete-event simulation of one balancer in front of ten backends, on a simulated clock.
//
// - Arrivals are Poisson at the given rate.
// - Each backend is a processor-sharing server: its in-flight requests share one processor
//   equally (a one-core server running every request at once), so a request's latency grows
//   with the backend's in-flight count for as long as it is in flight.
// - Work is exponential: mean 10 ms on nine backends, 100 ms on the slow one (10× the service
//   time, a tenth of the capacity).
// - Every completion is observed to the balancer with its latency.
//
// Arrival times and work sizes come from one seeded generator and are the same for every
// algorithm (common random numbers); the balancer's choices use another.

private let backendCount = 10
private let slowBackend = 9
private let fastServiceSeconds = 0.010
private let slowServiceSeconds = 0.100

/// One column of the simulation's table: a name and how to build the balancer.
struct SimulatedCase: Sendable {
    let name: String
    let run: @Sendable (Scenario) -> SimulationResult

    init<B: Balancer>(_ name: String, _ make: @escaping @Sendable () -> B) {
        self.name = name
        self.run = { scenario in simulate(make(), scenario) }
    }
}

let simulatedCases: [SimulatedCase] = [
    SimulatedCase("round_robin") { RoundRobin() },
    SimulatedCase("least_connections") { LeastConnections() },
    SimulatedCase("power_of_two") { PowerOfTwo() },
    SimulatedCase("peak_ewma") { PeakEWMA() },
]

struct Scenario {
    var arrivalsPerSecond: Double
    var requests: Int
    var seed: UInt64
    /// Requests left out of the percentiles while the balancers learn.
    var warmUpRequests: Int { requests / 50 }
}

struct SimulationResult {
    /// Latencies in seconds, of the requests after the warm-up, sorted.
    var sortedLatencies: [Double]
    var slowShare: Double

    func percentile(_ fraction: Double) -> Double {
        sortedLatencies[min(sortedLatencies.count - 1, Int(fraction * Double(sortedLatencies.count)))]
    }
}

func runSimulation(arguments: [String]) {
    var rates: [Double] = []
    var requests = 200_000
    var seed: UInt64 = 1
    var remaining = arguments[...]
    while let flag = remaining.popFirst() {
        guard let value = remaining.popFirst() else { usageError("\(flag) needs a value") }
        switch flag {
        case "--rate":
            guard let rate = Double(value), rate > 0 else { usageError("--rate \(value)") }
            rates.append(rate)
        case "--requests":
            guard let count = Int(value), count > 100 else { usageError("--requests must be over 100") }
            requests = count
        case "--seed":
            guard let number = UInt64(value) else { usageError("--seed \(value)") }
            seed = number
        default:
            usageError("unknown option \(flag)")
        }
    }
    // Round robin sends the slow backend a tenth of the traffic, which it can serve up to
    // 100 requests/s: 20, 50 and 80 leave it (and the cluster) unsaturated; 300 does not.
    if rates.isEmpty { rates = [20, 50, 80, 300] }

    let capacity = Double(backendCount - 1) / fastServiceSeconds + 1 / slowServiceSeconds
    print("Ten processor-sharing backends, exponential work of mean 10 ms (one backend: 100 ms),")
    print("Poisson arrivals, \(requests) requests per run (the first \(requests / 50) not counted), seed \(seed).")
    print("Latencies in ms. PeakEWMA at its defaults (decay 10 s, default latency 30 ms).")
    for rate in rates {
        let scenario = Scenario(arrivalsPerSecond: rate, requests: requests, seed: seed)
        let slowLoad = rate / Double(backendCount) * slowServiceSeconds
        print("")
        print("### \(formatted(rate, digits: 0)) requests/s: cluster at \(formatted(100 * rate / capacity))% of capacity; "
            + "round robin loads the slow backend to \(formatted(100 * slowLoad, digits: 0))%"
            + (slowLoad >= 1 ? " (saturated: its queue grows for the whole run)" : ""))
        print("")
        print("| algorithm         |   p50 |       p99 |     p99.9 | to slow backend |")
        print("|-------------------|------:|----------:|----------:|----------------:|")
        var p99s: [String: Double] = [:]
        for simulatedCase in simulatedCases {
            let result = simulatedCase.run(scenario)
            p99s[simulatedCase.name] = result.percentile(0.99)
            print("| " + simulatedCase.name + String(repeating: " ", count: max(0, 18 - simulatedCase.name.count)) + "|"
                + padded(formatted(1_000 * result.percentile(0.50)), 6) + " |"
                + padded(formatted(1_000 * result.percentile(0.99)), 10) + " |"
                + padded(formatted(1_000 * result.percentile(0.999)), 10) + " |"
                + padded(formatted(100 * result.slowShare, digits: 2) + "%", 16) + " |")
        }
        if let roundRobin = p99s["round_robin"], let peakEWMA = p99s["peak_ewma"] {
            print("")
            let note = slowLoad >= 1 ? " (round robin saturated: grows with the run's length)" : ""
            print("p99 round_robin / peak_ewma: \(formatted(roundRobin / peakEWMA))×" + note)
        }
    }
}

private func usageError(_ message: String) -> Never {
    print("simulate: \(message)")
    print("usage: sluice-balancer-bench simulate [--requests N] [--seed S] [--rate R]...")
    exit(2)
}

/// A backend whose in-flight requests share one processor equally. Rather than tracking each
/// request's remaining work, it keeps a virtual clock of the service each in-flight request has
/// received; a request finishes when that clock reaches the value it had on arrival plus the
/// request's work.
private struct SharedProcessor {
    struct Request {
        var finishesAt: Double  // on the virtual clock
        var arrivedAt: Double
        var index: Int
    }

    let serviceSeconds: Double
    private var virtualClock = 0.0
    private var updatedAt = 0.0
    /// Latest finisher first, so that the next to finish is at the end.
    private(set) var inFlight: [Request] = []

    init(serviceSeconds: Double) {
        self.serviceSeconds = serviceSeconds
    }

    /// When the next request finishes, if nothing arrives before.
    var nextCompletion: Double {
        guard let next = inFlight.last else { return .infinity }
        return updatedAt + (next.finishesAt - virtualClock) * Double(inFlight.count)
    }

    mutating func admit(work: Double, index: Int, at now: Double) {
        advance(to: now)
        let request = Request(finishesAt: virtualClock + work, arrivedAt: now, index: index)
        var position = inFlight.endIndex
        while position > 0 && inFlight[position - 1].finishesAt < request.finishesAt { position -= 1 }
        inFlight.insert(request, at: position)
    }

    /// Removes the request that finishes at `nextCompletion`, which is now.
    mutating func completeNext(at now: Double) -> Request {
        let request = inFlight.removeLast()
        virtualClock = request.finishesAt
        updatedAt = now
        return request
    }

    private mutating func advance(to now: Double) {
        if !inFlight.isEmpty { virtualClock += (now - updatedAt) / Double(inFlight.count) }
        updatedAt = now
    }
}

private func simulate<B: Balancer>(_ balancer: B, _ scenario: Scenario) -> SimulationResult {
    var balancer = balancer
    var workload = SplitMix64(seed: scenario.seed)
    var choices = SplitMix64(seed: scenario.seed &+ 0x5EED)
    var servers = (0..<backendCount).map {
        SharedProcessor(serviceSeconds: $0 == slowBackend ? slowServiceSeconds : fastServiceSeconds)
    }
    var views = Array(repeating: BackendView(), count: backendCount)
    var latencies = Array(repeating: 0.0, count: scenario.requests)
    var arrived = 0
    var completed = 0
    var toSlow = 0
    var nextArrival = workload.exponential(mean: 1 / scenario.arrivalsPerSecond)

    while completed < scenario.requests {
        var soonest = Double.infinity
        var finishing = 0
        for index in servers.indices {
            let completion = servers[index].nextCompletion
            if completion < soonest {
                soonest = completion
                finishing = index
            }
        }
        if arrived < scenario.requests && nextArrival <= soonest {
            let now = nextArrival
            let work = workload.exponential(mean: 1)
            let context = PickContext(nowNanoseconds: nanoseconds(now))
            guard let chosen = balancer.pick(from: views, context: context, random: &choices) else {
                fatalError("every backend is available")
            }
            servers[chosen].admit(work: work * servers[chosen].serviceSeconds, index: arrived, at: now)
            views[chosen].inFlight += 1
            if chosen == slowBackend && arrived >= scenario.warmUpRequests { toSlow += 1 }
            arrived += 1
            nextArrival = now + workload.exponential(mean: 1 / scenario.arrivalsPerSecond)
        } else {
            let now = soonest
            let request = servers[finishing].completeNext(at: now)
            views[finishing].inFlight -= 1
            let latency = now - request.arrivedAt
            latencies[request.index] = latency
            balancer.observe(backend: finishing, latencyNanoseconds: nanoseconds(latency), nowNanoseconds: nanoseconds(now))
            completed += 1
        }
    }
    let counted = latencies[scenario.warmUpRequests...].sorted()
    return SimulationResult(
        sortedLatencies: counted,
        slowShare: Double(toSlow) / Double(scenario.requests - scenario.warmUpRequests)
    )
}

private func nanoseconds(_ seconds: Double) -> UInt64 {
    UInt64((seconds * 1e9).rounded())
}
