// cache-sim: on-demand hit ratios and throughput of the cache's eviction policies, not a test.
//
//   swift run -c release sluice-cache-sim [--requests N] [--objects N] [--seed S]
//
// For each trace (Zipf skews 0.6…1.2, and a Zipf 0.8 hot set with 30% one-hit wonders), each
// size model and each cache size (1%, 5%, 10% of the catalogue's bytes), every policy replays
// the same requests from a cold start: a hit is `touch` returning true, a miss is an `insert`.
// Throughput is requests per second through `EvictionIndex<Int>` alone (no values, no
// hashing of real keys), timed with ContinuousClock.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SluiceCache

var objects = 100_000
var requests = 1_000_000
var seed: UInt64 = 1
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch (flag, arguments.popFirst().flatMap { Int($0) }) {
    case ("--requests", let value?): requests = value
    case ("--objects", let value?): objects = value
    case ("--seed", let value?): seed = UInt64(value)
    default:
        print("usage: sluice-cache-sim [--requests N] [--objects N] [--seed S]")
        exit(2)
    }
}

let alphas = [0.6, 0.8, 1.0, 1.2]
let cacheShares = [0.01, 0.05, 0.10]
let policies = EvictionKind.allCases

struct Outcome {
    var objectHitRatio: Double
    var byteHitRatio: Double
    var requestsPerSecond: Double
}

/// Replays `trace` through a cold index of `kind` holding `capacity` bytes.
func replay(_ trace: Trace, kind: EvictionKind, capacity: Int) -> Outcome {
    var index = EvictionIndex<Int>(kind: kind, capacityBytes: capacity)
    var hits = 0
    var hitBytes = 0
    var requestedBytes = 0
    var evictions = 0
    let clock = ContinuousClock()
    let start = clock.now
    for id in trace.requests {
        let key = Int(id)
        let size = Int(trace.sizes[key])
        requestedBytes += size
        if index.touch(key) {
            hits += 1
            hitBytes += size
        } else {
            evictions &+= index.insert(key, size: size).count
        }
    }
    let elapsed = clock.now - start
    precondition(index.usedBytes <= capacity && evictions >= 0)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return Outcome(
        objectHitRatio: Double(hits) / Double(trace.requests.count),
        byteHitRatio: Double(hitBytes) / Double(requestedBytes),
        requestsPerSecond: Double(trace.requests.count) / seconds
    )
}

func padded(_ value: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - value.count)) + value
}

/// `value` with `digits` decimals (no Foundation `String(format:)`).
func formatted(_ value: Double, digits: Int = 1) -> String {
    var scale = 1
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int((value * Double(scale)).rounded())
    guard digits > 0 else { return "\(scaled)" }
    let fraction = "\(scaled % scale)"
    return "\(scaled / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
}

func mebibytes(_ bytes: Int) -> String { formatted(Double(bytes) / 1_048_576, digits: 0) + " MiB" }

let totalStart = ContinuousClock.now
var throughput: [EvictionKind: [Double]] = [:]
var throughputRows: [String] = []
var winners: [EvictionKind: Int] = [:]

for model in [SizeModel.logNormal, .equal] {
    let traces = alphas.enumerated().map { number, alpha in
        makeTrace(objects: objects, requests: requests, alpha: alpha, sizes: model, seed: seed &+ UInt64(number))
    } + [makeTrace(objects: objects, requests: requests, alpha: 0.8, oneHitShare: 0.3, sizes: model, seed: seed &+ 100)]

    let showsBytes = model == .logNormal
    print("## \(model), \(objects) objects, \(requests) requests")
    print("")
    print("Hit ratio % " + (showsBytes ? "(objects / bytes)" : "(objects; bytes are the same)")
        + ", cache = share of the catalogue's \(mebibytes(traces[0].catalogueBytes)); best object hit ratio marked *")
    print("")
    let cellWidth = showsBytes ? 13 : 7
    print("| trace                 | cache |" + policies.map { " " + padded($0.rawValue, cellWidth) + " |" }.joined())
    print("|-----------------------|------:|" + policies.map { _ in String(repeating: "-", count: cellWidth + 1) + ":|" }.joined())
    for trace in traces {
        for share in cacheShares {
            let capacity = Int(Double(trace.catalogueBytes) * share)
            let outcomes = policies.map { replay(trace, kind: $0, capacity: capacity) }
            let best = outcomes.map(\.objectHitRatio).max() ?? 0
            for (kind, outcome) in zip(policies, outcomes) where outcome.objectHitRatio == best {
                winners[kind, default: 0] += 1
            }
            let cells = outcomes.map { outcome in
                let mark = outcome.objectHitRatio == best ? "*" : " "
                let text = formatted(outcome.objectHitRatio * 100)
                    + (showsBytes ? " / " + formatted(outcome.byteHitRatio * 100) : "") + mark
                return " " + padded(text, cellWidth) + " |"
            }
            let traceCell = trace.name + String(repeating: " ", count: max(0, 21 - trace.name.count))
            print("| \(traceCell) | " + padded("\(Int(share * 100))%", 5) + " |" + cells.joined())
            if showsBytes {
                for (kind, outcome) in zip(policies, outcomes) {
                    throughput[kind, default: []].append(outcome.requestsPerSecond)
                }
                throughputRows.append("| \(traceCell) | " + padded("\(Int(share * 100))%", 5) + " |"
                    + outcomes.map { " " + padded(formatted($0.requestsPerSecond / 1e6, digits: 2), 6) + " |" }.joined())
            }
        }
    }
    print("")
}

print("## Throughput, million requests/s (log-normal sizes; a request is touch, or touch + insert on a miss)")
print("")
print("| trace                 | cache |" + policies.map { " " + padded($0.rawValue, 6) + " |" }.joined())
print("|-----------------------|------:|" + policies.map { _ in "-------:|" }.joined())
throughputRows.forEach { print($0) }
print("| median                |       |" + policies.map { kind in
    let sorted = (throughput[kind] ?? []).sorted()
    return " " + padded(formatted(sorted.isEmpty ? 0 : sorted[sorted.count / 2] / 1e6, digits: 2), 6) + " |"
}.joined())
print("")
print("Best object hit ratio (ties count for each): "
    + policies.map { "\($0.rawValue) \(winners[$0, default: 0])" }.joined(separator: ", ")
    + " of \(2 * (alphas.count + 1) * cacheShares.count) cases")
let total = ContinuousClock.now - totalStart
print("(seed \(seed), \(total.components.seconds) s in all)")
