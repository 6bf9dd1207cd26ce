#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SluiceBalancing

// The request traces of the simulation: seeded, so every run and every policy sees the same.

extension SplitMix64 {
    /// Uniform in [0, 1), 53 bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u = 1 - unit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * unit())
    }
}

/// A request trace: key ids in request order, all below `idBound`.
struct Trace {
    let name: String
    /// How it was generated, one line.
    let description: String
    let requests: [Int32]
    /// One more than the largest id: the length of per-id tables.
    let idBound: Int
    /// Distinct ids requested: the key space that cache sizes are a share of.
    let distinctKeys: Int

    init(name: String, description: String, requests: [Int32], idBound: Int) {
        self.name = name
        self.description = description
        self.requests = requests
        self.idBound = idBound
        var seen = [Bool](repeating: false, count: idBound)
        var distinct = 0
        for id in requests where !seen[Int(id)] {
            seen[Int(id)] = true
            distinct += 1
        }
        distinctKeys = distinct
    }
}

/// Ranks 1…n drawn with probability ∝ 1/rank^alpha, by binary search in the cumulative
/// distribution; rank r is key `permutation[r-1]`, so popularity is not the id order.
struct ZipfSampler {
    private let cumulative: [Double]
    private let permutation: [Int32]

    init(keys: Int, alpha: Double, seed: UInt64) {
        var total = 0.0
        var cumulative = [Double](repeating: 0, count: keys)
        for rank in 0..<keys {
            total += 1 / pow(Double(rank + 1), alpha)
            cumulative[rank] = total
        }
        self.cumulative = cumulative.map { $0 / total }
        var random = SplitMix64(seed: seed)
        var permutation = (0..<Int32(keys)).map { $0 }
        permutation.shuffle(using: &random)
        self.permutation = permutation
    }

    func next(using random: inout SplitMix64) -> Int32 {
        let u = random.unit()
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] <= u { low = middle + 1 } else { high = middle }
        }
        return permutation[low]
    }
}

/// `requests` independent draws from Zipf(`alpha`) over keys 0..<`keys`.
func zipfTrace(keys: Int, requests: Int, alpha: Double, seed: UInt64) -> Trace {
    let zipf = ZipfSampler(keys: keys, alpha: alpha, seed: seed)
    var random = SplitMix64(seed: seed ^ 0x7472_6163_6500_0000)
    let trace = (0..<requests).map { _ in zipf.next(using: &random) }
    return Trace(
        name: "zipf \(alpha)",
        description: "\(requests) independent draws from Zipf α=\(alpha) over keys 0..<\(keys) "
            + "(popularity ranks shuffled over the ids, seed \(seed))",
        requests: trace, idBound: keys)
}

/// Zipf(`alpha`) over keys 0..<`keys`, interrupted by scans: after every `zipfRun` Zipf
/// draws come `scanLength` consecutive ids of a cold range keys..<keys+`coldKeys` that Zipf
/// never draws; each scan starts where the last one stopped, wrapping at the range's end.
func zipfWithScansTrace(
    keys: Int, requests: Int, alpha: Double, zipfRun: Int, scanLength: Int, coldKeys: Int, seed: UInt64
) -> Trace {
    let zipf = ZipfSampler(keys: keys, alpha: alpha, seed: seed)
    var random = SplitMix64(seed: seed ^ 0x7472_6163_6500_0000)
    var trace = [Int32]()
    trace.reserveCapacity(requests)
    var cold = 0
    while trace.count < requests {
        for _ in 0..<zipfRun where trace.count < requests {
            trace.append(zipf.next(using: &random))
        }
        for _ in 0..<scanLength where trace.count < requests {
            trace.append(Int32(keys + cold))
            cold = (cold + 1) % coldKeys
        }
    }
    let share = Int((Double(scanLength) / Double(zipfRun + scanLength) * 100).rounded())
    return Trace(
        name: "zipf \(alpha) + scan",
        description: "\(requests) requests in blocks of \(zipfRun) Zipf α=\(alpha) draws over keys 0..<\(keys) "
            + "(seed \(seed)) then a scan of \(scanLength) consecutive cold keys from \(keys)..<\(keys + coldKeys), "
            + "never drawn by Zipf, each scan resuming where the last stopped and wrapping "
            + "(\(share)% of requests are scan requests; a cold key recurs every "
            + "\(coldKeys / scanLength * (zipfRun + scanLength)) requests)",
        requests: trace, idBound: keys + coldKeys)
}

/// Keys 0, 1, …, `keys`-1, 0, 1, … in order until `requests` requests.
func loopTrace(keys: Int, requests: Int) -> Trace {
    let trace = (0..<requests).map { Int32($0 % keys) }
    return Trace(
        name: "loop",
        description: "keys 0..<\(keys) requested in order, cyclically, for \(requests) requests "
            + "(\(requests / keys) passes; the loop is 10× the largest cache, 10% of its keys)",
        requests: trace, idBound: keys)
}

/// Log-normal sizes for ids 0..<`count`: median 16 KiB, σ = 1 (natural log), clamped to
/// 1 KiB…256 KiB, web objects' long tail without the multi-megabyte outliers a proxy would
/// stream, not cache.
func logNormalSizes(count: Int, seed: UInt64) -> [Int32] {
    var random = SplitMix64(seed: seed ^ 0x7369_7a65_0000_0000)
    let median = 16.0 * 1024
    return (0..<count).map { _ in
        Int32(min(max(median * exp(random.normal()), 1024), 256 * 1024).rounded())
    }
}
