// sluice-cache-sim: on-demand miss ratios and throughput of the cache's eviction policies, not a test.
//
//   swift run -c release sluice-cache-sim [--requests N] [--keys N] [--seed S] [--no-sizes]
//
// Five seeded traces (Zipf α 0.7, 0.9, 1.1; Zipf 0.9 with scans of cold keys; a loop larger
// than every cache, see Traces.swift) and three cache sizes, 0.1%, 1% and 10% of the trace's
// distinct keys. Every key has the same size in the main table, so that Belady's MIN
// (Belady.swift) is the optimum and the floor. Every policy replays the same requests from
// a cold start: a hit is `touch` returning true, a miss is an `insert`, compulsory misses
// included. Then the default (s3fifo) against LRU: the relative miss reduction per trace and
// size, and the two targets, PASS or FAIL. Throughput is requests per second through
// `EvictionIndex<Int>` alone (no values, no hashing of real keys), timed with
// ContinuousClock. Last, unless --no-sizes, the same traces with log-normal sizes (no MIN:
// with sizes it is not the optimum).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SluiceCache

var keys = 100_000
var requests = 2_000_000
var seed: UInt64 = 1
var withSizes = true
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    if flag == "--no-sizes" {
        withSizes = false
        continue
    }
    switch (flag, arguments.popFirst().flatMap { Int($0) }) {
    case ("--requests", let value?) where value > 0: requests = value
    case ("--keys", let value?) where value > 0: keys = value
    case ("--seed", let value?): seed = UInt64(truncatingIfNeeded: value)
    default:
        print("usage: sluice-cache-sim [--requests N] [--keys N] [--seed S] [--no-sizes]")
        exit(2)
    }
}

let shares = [0.001, 0.01, 0.10]
let shareNames = ["0.1%", "1%", "10%"]
let policies = EvictionKind.allCases
let baseline = EvictionKind.lru
let candidate = EvictionKind.s3fifo
/// The targets: at least 10% fewer misses than LRU on Zipf 0.9 at every size, and
/// never more than 2% more misses than LRU (relative) anywhere.
let requiredReduction = 0.10
let allowedExcess = 0.02

struct Outcome {
    var misses: Int
    var missedBytes: Int
    var requestedBytes: Int
    var requestsPerSecond: Double

    func missRatio(of count: Int) -> Double { Double(misses) / Double(count) }
    var byteMissRatio: Double { Double(missedBytes) / Double(requestedBytes) }
}

/// Replays `trace` through a cold index of `kind` holding `capacity` bytes, id i being
/// `sizes[i]` bytes.
func replay(_ trace: Trace, sizes: [Int32], kind: EvictionKind, capacity: Int) -> Outcome {
    var index = EvictionIndex<Int>(kind: kind, capacityBytes: capacity)
    var misses = 0
    var missedBytes = 0
    var requestedBytes = 0
    var evictions = 0
    let clock = ContinuousClock()
    let start = clock.now
    for id in trace.requests {
        let key = Int(id)
        let size = Int(sizes[key])
        requestedBytes += size
        if !index.touch(key) {
            misses += 1
            missedBytes += size
            evictions &+= index.insert(key, size: size).count
        }
    }
    let elapsed = clock.now - start
    precondition(index.usedBytes <= capacity && evictions >= 0)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return Outcome(
        misses: misses, missedBytes: missedBytes, requestedBytes: requestedBytes,
        requestsPerSecond: Double(trace.requests.count) / seconds)
}

func padded(_ value: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - value.count)) + value
}

func leftPadded(_ value: String, _ width: Int) -> String {
    value + String(repeating: " ", count: max(0, width - value.count))
}

/// `value` with `digits` decimals (no Foundation `String(format:)`); "−" before a negative.
func formatted(_ value: Double, digits: Int = 1) -> String {
    var scale = 1
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int((abs(value) * Double(scale)).rounded())
    let sign = value < 0 && scaled != 0 ? "−" : ""
    guard digits > 0 else { return sign + "\(scaled)" }
    let fraction = "\(scaled % scale)"
    return sign + "\(scaled / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
}

/// `value` with a sign, "+" included.
func signed(_ value: Double, digits: Int = 1) -> String {
    let text = formatted(value, digits: digits)
    return text.hasPrefix("−") || text == formatted(0, digits: digits) ? text : "+" + text
}

/// 12500 as "12,500".
func grouped(_ value: Int) -> String {
    var digits = String(value)
    var groups: [Substring] = []
    while digits.count > 3 {
        groups.insert(digits.suffix(3), at: 0)
        digits.removeLast(3)
    }
    return ([Substring(digits)] + groups).joined(separator: ",")
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

let totalStart = ContinuousClock.now

// MIN against a brute force first: the floor of the table must be right.
let selfCheckCases = 3_000
checkBelady(cases: selfCheckCases, seed: seed)

let traces = [
    zipfTrace(keys: keys, requests: requests, alpha: 0.7, seed: seed),
    zipfTrace(keys: keys, requests: requests, alpha: 0.9, seed: seed &+ 1),
    zipfTrace(keys: keys, requests: requests, alpha: 1.1, seed: seed &+ 2),
    zipfWithScansTrace(
        keys: keys, requests: requests, alpha: 0.9, zipfRun: max(3, 3 * keys / 20), scanLength: max(1, keys / 20),
        coldKeys: max(1, keys / 4), seed: seed &+ 3),
    loopTrace(keys: keys, requests: requests),
]
let zipf09 = 1

/// Cache sizes in keys for `trace`: the shares of its distinct keys, at least 1.
func cacheKeys(_ trace: Trace) -> [Int] {
    shares.map { max(1, Int((Double(trace.distinctKeys) * $0).rounded())) }
}

print("## Miss ratio %, equal sizes: \(grouped(requests)) requests per trace, seed \(seed)")
print("")
print("Belady self-check: MIN equals a brute-force optimum on \(selfCheckCases) random tiny traces, "
    + "and no policy has fewer misses there.")
print("")
print("Traces:")
print("")
for trace in traces {
    print("- **\(trace.name)**: \(trace.description); \(grouped(trace.distinctKeys)) distinct keys, "
        + "caches of " + cacheKeys(trace).map(grouped).joined(separator: " / ") + " keys.")
}
print("")
print("Cache = 0.1%, 1%, 10% of the trace's distinct keys, every key the same size (so Belady's MIN "
    + "is the optimum); cold start, compulsory misses included; lowest miss ratio of the four "
    + "policies marked *, belady is the floor.")
print("")

let cellWidth = 7
let traceWidth = 17
print("| " + leftPadded("trace", traceWidth) + " | cache |   keys |"
    + (policies.map(\.rawValue) + ["belady"]).map { " " + padded($0, cellWidth) + " |" }.joined())
print("|" + String(repeating: "-", count: traceWidth + 2) + "|------:|-------:|"
    + String(repeating: String(repeating: "-", count: cellWidth + 1) + ":|", count: policies.count + 1))

/// misses[trace][size][policy]
var misses: [[[EvictionKind: Int]]] = []
var throughput: [EvictionKind: [Double]] = [:]
var throughputRows: [String] = []
for trace in traces {
    var rows: [[EvictionKind: Int]] = []
    let unitSizes = [Int32](repeating: 1, count: trace.idBound)
    for (share, capacity) in zip(shareNames, cacheKeys(trace)) {
        let outcomes = policies.map { replay(trace, sizes: unitSizes, kind: $0, capacity: capacity) }
        let floor = beladyMisses(trace.requests, idBound: trace.idBound, capacity: capacity)
        let fewest = outcomes.map(\.misses).min() ?? 0
        precondition(floor <= fewest, "\(trace.name) at \(share): MIN \(floor) above a policy's \(fewest)")
        var row: [EvictionKind: Int] = [:]
        for (kind, outcome) in zip(policies, outcomes) {
            row[kind] = outcome.misses
            throughput[kind, default: []].append(outcome.requestsPerSecond)
        }
        rows.append(row)
        let cells = outcomes.map { outcome in
            " " + padded(formatted(outcome.missRatio(of: trace.requests.count) * 100, digits: 2)
                + (outcome.misses == fewest ? "*" : " "), cellWidth) + " |"
        } + [" " + padded(formatted(Double(floor) / Double(trace.requests.count) * 100, digits: 2) + " ", cellWidth) + " |"]
        let prefix = "| " + leftPadded(trace.name, traceWidth) + " | " + padded(share, 5) + " | "
        print(prefix + padded(grouped(capacity), 6) + " |" + cells.joined())
        throughputRows.append(prefix + padded(grouped(capacity), 6) + " |"
            + outcomes.map { " " + padded(formatted($0.requestsPerSecond / 1e6, digits: 2), 6) + " |" }.joined())
    }
    misses.append(rows)
}
print("")

/// (lru − s3fifo) / lru in `row`: positive when s3fifo misses less.
func reduction(_ row: [EvictionKind: Int]) -> Double {
    let lru = Double(row[baseline] ?? 0)
    let other = Double(row[candidate] ?? 0)
    return lru > 0 ? (lru - other) / lru : 0
}

print("## \(candidate.rawValue) vs \(baseline.rawValue): relative miss reduction, "
    + "(\(baseline.rawValue)_miss − \(candidate.rawValue)_miss) / \(baseline.rawValue)_miss, % (positive: fewer misses)")
print("")
print("| " + leftPadded("trace", traceWidth) + " |" + shareNames.map { " " + padded($0, 6) + " |" }.joined())
print("|" + String(repeating: "-", count: traceWidth + 2) + "|" + String(repeating: "-------:|", count: shares.count))
for (number, trace) in traces.enumerated() {
    print("| " + leftPadded(trace.name, traceWidth) + " |"
        + shares.indices.map { " " + padded(signed(reduction(misses[number][$0]) * 100), 6) + " |" }.joined())
}
print("")

// Target 1: at least 10% fewer misses than LRU on Zipf 0.9, at every size. Counted in whole
// misses, so that rounding cannot pass a case that fails.
let zipfPasses = shares.indices.allSatisfy { size in
    let lru = misses[zipf09][size][baseline] ?? 0
    let other = misses[zipf09][size][candidate] ?? 0
    return Double(lru - other) >= requiredReduction * Double(lru)
}
print("- \(traces[zipf09].name): \(candidate.rawValue) has "
    + shares.indices.map { formatted(reduction(misses[zipf09][$0]) * 100) + "%" }.joined(separator: " / ")
    + " fewer misses than \(baseline.rawValue) at " + shareNames.joined(separator: " / ")
    + " (target ≥ \(formatted(requiredReduction * 100, digits: 0))%): " + (zipfPasses ? "PASS" : "FAIL"))

// Target 2: nowhere more than 2% more misses than LRU: s3_miss ≤ lru_miss × 1.02.
var excessPasses = true
var excesses: [(trace: Int, size: Int, excess: Double)] = []
for trace in traces.indices {
    for size in shares.indices {
        let lru = misses[trace][size][baseline] ?? 0
        let other = misses[trace][size][candidate] ?? 0
        if Double(other) > (1 + allowedExcess) * Double(lru) { excessPasses = false }
        excesses.append((trace, size, -reduction(misses[trace][size])))
    }
}
let worstExcess = excesses.map(\.excess).max() ?? 0
let worstCases = excesses.filter { formatted($0.excess * 100) == formatted(worstExcess * 100) }
    .map { "\(traces[$0.trace].name) \(shareNames[$0.size])" }.joined(separator: ", ")
let target2 = "(target ≤ \(formatted(allowedExcess * 100, digits: 0))% more): " + (excessPasses ? "PASS" : "FAIL")
if worstExcess > 0 {
    print("- worst case vs \(baseline.rawValue): +\(formatted(worstExcess * 100))% more misses on \(worstCases) \(target2)")
} else {
    let how = worstExcess == 0 ? "+0.0% more misses (equal misses)" : "\(formatted(-worstExcess * 100))% fewer misses"
    let differing = excesses.filter { $0.excess != 0 }.max { $0.excess < $1.excess }
    let closest = differing.map {
        "; closest where they differ: \(signed($0.excess * 100))% on \(traces[$0.trace].name) \(shareNames[$0.size])"
    } ?? ""
    print("- worst case vs \(baseline.rawValue): \(how) on \(worstCases)\(closest); \(candidate.rawValue) never "
        + "misses more than \(baseline.rawValue) on any trace and size \(target2)")
}
print("")

print("## Throughput, million requests/s (equal sizes; a request is touch, or touch + insert on a miss)")
print("")
print("| " + leftPadded("trace", traceWidth) + " | cache |   keys |" + policies.map { " " + padded($0.rawValue, 6) + " |" }.joined())
print("|" + String(repeating: "-", count: traceWidth + 2) + "|------:|-------:|" + String(repeating: "-------:|", count: policies.count))
throughputRows.forEach { print($0) }
print("| " + leftPadded("median", traceWidth) + " |       |        |"
    + policies.map { " " + padded(formatted(median(throughput[$0] ?? []) / 1e6, digits: 2), 6) + " |" }.joined())
print("")

if withSizes {
    print("## Miss ratio %, log-normal sizes (median 16 KiB, σ 1, 1–256 KiB): objects / bytes")
    print("")
    print("The same traces, each id a log-normal size; cache = 0.1%, 1%, 10% of the bytes of the trace's "
        + "distinct keys. No MIN: with sizes it is not the optimum. Lowest object miss ratio marked *.")
    print("")
    let width = 15
    print("| " + leftPadded("trace", traceWidth) + " | cache |     MiB |" + policies.map { " " + padded($0.rawValue, width) + " |" }.joined())
    print("|" + String(repeating: "-", count: traceWidth + 2) + "|------:|--------:|"
        + String(repeating: String(repeating: "-", count: width + 1) + ":|", count: policies.count))
    for (number, trace) in traces.enumerated() {
        let sizes = logNormalSizes(count: trace.idBound, seed: seed &+ UInt64(number))
        var seen = [Bool](repeating: false, count: trace.idBound)
        var keySpaceBytes = 0
        for id in trace.requests where !seen[Int(id)] {
            seen[Int(id)] = true
            keySpaceBytes += Int(sizes[Int(id)])
        }
        for (share, fraction) in zip(shareNames, shares) {
            let capacity = Int(Double(keySpaceBytes) * fraction)
            let outcomes = policies.map { replay(trace, sizes: sizes, kind: $0, capacity: capacity) }
            let fewest = outcomes.map(\.misses).min() ?? 0
            let cells = outcomes.map { outcome in
                " " + padded(formatted(outcome.missRatio(of: trace.requests.count) * 100) + " / "
                    + formatted(outcome.byteMissRatio * 100) + (outcome.misses == fewest ? "*" : " "), width) + " |"
            }
            print("| " + leftPadded(trace.name, traceWidth) + " | " + padded(share, 5) + " | "
                + padded(formatted(Double(capacity) / 1_048_576), 7) + " |" + cells.joined())
        }
    }
    print("")
}

let total = ContinuousClock.now - totalStart
print("(seed \(seed), \(grouped(keys)) keys, \(grouped(requests)) requests per trace, \(total.components.seconds) s in all)")
