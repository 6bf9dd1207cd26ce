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

/// A request trace: object ids in request order, and the size of every id it names.
struct Trace {
    let name: String
    let requests: [Int32]
    /// Bytes per id.
    let sizes: [Int32]
    /// Bytes of the catalogue (ids below `catalogueCount`), what cache sizes are a share of.
    let catalogueBytes: Int
}

/// How object sizes are drawn.
enum SizeModel: CustomStringConvertible {
    /// Log-normal, median 16 KiB, σ = 1 (natural log), clamped to 1 KiB…256 KiB: web objects'
    /// long tail without the multi-megabyte outliers a proxy would stream, not cache.
    case logNormal
    /// Every object 16 KiB: byte hit ratio equals object hit ratio.
    case equal

    var description: String {
        switch self {
        case .logNormal: "log-normal sizes (median 16 KiB, σ 1, 1–256 KiB)"
        case .equal: "equal sizes (16 KiB)"
        }
    }

    func sizes(count: Int, seed: UInt64) -> [Int32] {
        switch self {
        case .equal:
            return Array(repeating: 16 * 1024, count: count)
        case .logNormal:
            var random = SplitMix64(seed: seed)
            let median = 16.0 * 1024
            return (0..<count).map { _ in
                Int32(min(max(median * exp(random.normal()), 1024), 256 * 1024).rounded())
            }
        }
    }
}

/// Ranks 1…n drawn with probability ∝ 1/rank^alpha, by binary search in the cumulative
/// distribution; rank r is object `permutation[r-1]`, so popularity is not the id order.
struct ZipfSampler {
    private let cumulative: [Double]
    private let permutation: [Int32]

    init(objects: Int, alpha: Double, seed: UInt64) {
        var total = 0.0
        var cumulative = [Double](repeating: 0, count: objects)
        for rank in 0..<objects {
            total += 1 / pow(Double(rank + 1), alpha)
            cumulative[rank] = total
        }
        self.cumulative = cumulative.map { $0 / total }
        var random = SplitMix64(seed: seed)
        var permutation = (0..<Int32(objects)).map { $0 }
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

/// `requests` requests over `objects` objects with Zipf skew `alpha`; with `oneHitShare` > 0,
/// that share of the requests instead name ids never requested before or after (a crawler,
/// a scan, cache-busting query strings).
func makeTrace(
    objects: Int, requests: Int, alpha: Double, oneHitShare: Double = 0, sizes model: SizeModel, seed: UInt64
) -> Trace {
    let zipf = ZipfSampler(objects: objects, alpha: alpha, seed: seed)
    var random = SplitMix64(seed: seed ^ 0x7472_6163_6500_0000)
    var nextUnique = Int32(objects)
    var trace = [Int32]()
    trace.reserveCapacity(requests)
    for _ in 0..<requests {
        if oneHitShare > 0 && random.unit() < oneHitShare {
            trace.append(nextUnique)
            nextUnique += 1
        } else {
            trace.append(zipf.next(using: &random))
        }
    }
    // One size table for the catalogue and the unique ids, drawn the same way.
    let sizes = model.sizes(count: Int(nextUnique), seed: seed ^ 0x7369_7a65_0000_0000)
    let catalogueBytes = sizes.prefix(objects).reduce(0) { $0 + Int($1) }
    let name = oneHitShare > 0
        ? "zipf \(alpha) + \(Int((oneHitShare * 100).rounded()))% once"
        : "zipf \(alpha)"
    return Trace(name: name, requests: trace, sizes: sizes, catalogueBytes: catalogueBytes)
}
