import SluiceBalancing
// sluice-limit-bench: on-demand measurements of the rate limiter, not a test.
//
//   sluice-limit-bench [decide]   ns per LocalLimitStore decision: each algorithm, 1 and 3
//                                 tiers, one hot key and 100k keys
//   sluice-limit-bench memory     bytes per tracked key: resident set before and after
//                                 offering 1,000,000 keys (a process per row), beside the
//                                 store's own estimate
//
// Build in release: swift run -c release sluice-limit-bench

import SluiceLimits

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let second: UInt64 = 1_000_000_000

func makePolicy(_ algorithm: RateAlgorithm, tiers: Int) -> LimitPolicy {
    let all = [
        LimitTier(limit: 1_000, window: second),
        LimitTier(limit: 20_000, window: 60 * second),
        LimitTier(limit: 500_000, window: 3_600 * second),
    ]
    do { return try LimitPolicy(name: "bench", algorithm: algorithm, tiers: Array(all.prefix(tiers))) } catch {
        fatalError("bench policy: \(error)")
    }
}

/// The key hashes: the same every run.
typealias KeyHashes = SplitMix64

func nanoseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}

/// `iterations` decisions over `keys` in turn, the clock moving 1 µs each (so both the
/// allowed and the refused path run); nanoseconds taken, and a checksum so nothing is elided.
@inline(never)
func timeDecisions(_ store: LocalLimitStore, keys: [UInt64], iterations: Int, now: inout UInt64) -> (Double, Int) {
    var checksum = 0
    let clock = ContinuousClock()
    let start = clock.now
    var index = 0
    for _ in 0..<iterations {
        let decision = store.decide(keyHash: keys[index], now: now)
        checksum &+= decision.allowed ? 1 : decision.remaining(decision.closestTier)
        index = index + 1 == keys.count ? 0 : index + 1
        now += 1_000
    }
    return (nanoseconds(clock.now - start), checksum)
}

/// The best ns per decision of 9 rounds of at least 20 ms, after one round of warm-up that
/// also inserts every key. The best, not the median: on a shared machine other work only
/// ever adds time.
func nanosecondsPerDecision(_ algorithm: RateAlgorithm, tiers: Int, keyCount: Int) -> (Double, Int, bytes: Int) {
    let store = LocalLimitStore(policy: makePolicy(algorithm, tiers: tiers))
    var hashes = KeyHashes(seed: 1)
    let keys = (0..<keyCount).map { _ in hashes.next() }
    var now = second
    var (_, checksum) = timeDecisions(store, keys: keys, iterations: max(keyCount, 100_000), now: &now)
    var iterations = 100_000
    while timeDecisions(store, keys: keys, iterations: iterations, now: &now).0 < 20_000_000 { iterations *= 2 }
    var rounds: [Double] = []
    for _ in 0..<9 {
        let (elapsed, sum) = timeDecisions(store, keys: keys, iterations: iterations, now: &now)
        rounds.append(elapsed / Double(iterations))
        checksum &+= sum
    }
    return (rounds.min() ?? 0, checksum, store.bytes)
}

/// Nanoseconds per read of a chain of dependent reads, one cache line apart in random order,
/// over `bytes`: the floor for a decision whose key's slot is not in cache.
func dependentReadNanoseconds(bytes: Int) -> Double {
    let lines = max(2, bytes / 64)
    var order = Array(0..<lines)
    var random = KeyHashes(seed: 5)
    order.shuffle(using: &random)
    var next = [Int](repeating: 0, count: lines * 8)
    for index in 0..<lines { next[order[index] * 8] = order[(index + 1) % lines] * 8 }
    var position = 0
    let clock = ContinuousClock()
    var best = Double.infinity
    for _ in 0..<5 {
        let start = clock.now
        for _ in 0..<200_000 { position = next[position] }
        best = min(best, nanoseconds(clock.now - start) / 200_000)
    }
    return position < 0 ? 0 : best   // uses `position`, so the chain cannot be dropped
}

/// Resident bytes from /proc/self/statm, or nil where there is none.
func residentBytes() -> Int? {
    let descriptor = open("/proc/self/statm", O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, 127) }
    guard count > 0 else { return nil }
    let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func formatted(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

func padded(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

func name(_ algorithm: RateAlgorithm) -> String {
    algorithm.rawValue + String(repeating: " ", count: max(0, 14 - algorithm.rawValue.count))
}

func runDecisionBenchmark() {
    print("ns per decision (LocalLimitStore, best of 9 rounds of at least 20 ms; target ≤ 200)")
    print("")
    print("| algorithm      | tiers |  1 key | 100k keys | their table | 1 uncached read |")
    print("|----------------|------:|-------:|----------:|------------:|----------------:|")
    var checksum = 0
    for algorithm in RateAlgorithm.allCases {
        for tiers in [1, 3] {
            let (hot, hotSum, _) = nanosecondsPerDecision(algorithm, tiers: tiers, keyCount: 1)
            let (spread, spreadSum, bytes) = nanosecondsPerDecision(algorithm, tiers: tiers, keyCount: 100_000)
            checksum &+= hotSum &+ spreadSum
            let megabytes = formatted(Double(bytes) / 1_048_576) + " MB"
            print("| \(name(algorithm)) | \(padded("\(tiers)", 5)) | \(padded(formatted(hot), 6)) | \(padded(formatted(spread), 9)) | "
                + "\(padded(megabytes, 11)) | \(padded(formatted(dependentReadNanoseconds(bytes: bytes)), 15)) |")
        }
    }
    print("")
    print("100k keys: each decision's slot is a cache miss; the last column is one dependent")
    print("read over a buffer that size, the floor under it on this machine.")
    print("(checksum \(checksum))")
}

let memoryCases: [(RateAlgorithm, Int)] = [(.gcra, 1), (.tokenBucket, 1), (.gcra, 3), (.tokenBucket, 3), (.slidingWindow, 3)]

/// One row, in a process of its own so that no earlier store's freed pages are reused.
func measureMemory(_ algorithm: RateAlgorithm, tiers: Int) {
    let offered = 1_000_000
    let before = residentBytes()
    let store = LocalLimitStore(policy: makePolicy(algorithm, tiers: tiers))
    var hashes = KeyHashes(seed: 99)
    for _ in 0..<offered { _ = store.decide(keyHash: hashes.next(), now: second) }
    let tracked = store.count
    let rss = residentBytes().flatMap { after in before.map { Double(after - $0) / Double(tracked) } }
    print("| \(name(algorithm)) | \(padded("\(tiers)", 5)) | \(padded("\(tracked)", 7)) | "
        + "\(padded(rss.map(formatted) ?? "n/a", 9)) | \(padded(formatted(store.bytesPerKey), 14)) |")
}

func runMemoryBenchmark() {
    print("bytes per tracked key (1,000,000 keys offered to a store capped at 1,000,000; target ≤ 128)")
    print("")
    print("| algorithm      | tiers | tracked | RSS B/key | estimate B/key |")
    print("|----------------|------:|--------:|----------:|---------------:|")
    fflush(nil)
    for (algorithm, tiers) in memoryCases {
        runSelf(["memory-row", algorithm.rawValue, "\(tiers)"])
    }
}

/// Runs this executable again with `arguments` (and an empty environment) and waits for it.
func runSelf(_ arguments: [String]) {
    let path = executablePath()
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let environment: [UnsafeMutablePointer<CChar>?] = [nil]
    var pid = pid_t()
    guard posix_spawn(&pid, path, nil, nil, argv, environment) == 0 else { return print("could not run \(path)") }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
}

/// /proc/self/exe where there is one, else argv[0].
func executablePath() -> String {
    var buffer = [CChar](repeating: 0, count: 4_096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { return CommandLine.arguments[0] }
    return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first ?? "decide" {
case "decide": runDecisionBenchmark()
case "memory": runMemoryBenchmark()
case "memory-row" where arguments.count == 3:
    guard let algorithm = RateAlgorithm(rawValue: arguments[1]), let tiers = Int(arguments[2]) else { exit(2) }
    measureMemory(algorithm, tiers: tiers)
case "all":
    runDecisionBenchmark()
    print("")
    runMemoryBenchmark()
default:
    print("usage: sluice-limit-bench [decide | memory | all]")
    exit(2)
}
