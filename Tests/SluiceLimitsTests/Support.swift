import SluiceBalancing
import SluiceLimits

let millisecond: UInt64 = 1_000_000
let second: UInt64 = 1_000_000_000

/// A tier of `limit` per `seconds` seconds.
func tier(_ limit: Int, per seconds: UInt64, burst: Int? = nil) -> LimitTier {
    LimitTier(limit: limit, window: seconds * second, burst: burst)
}

/// A policy that must be valid: a test that builds a bad one fails loudly.
func policy(_ algorithm: RateAlgorithm, _ tiers: [LimitTier], name: String = "api") -> LimitPolicy {
    do { return try LimitPolicy(name: name, algorithm: algorithm, tiers: tiers) } catch {
        fatalError("invalid test policy: \(error)")
    }
}

/// SplitMix64 for seeded randomized tests.
typealias SeededRandom = SplitMix64

/// Returns the given values in turn, to choose exactly which slots a sample draws.
struct ScriptedRandom: RandomNumberGenerator {
    var values: [UInt64]
    var index = 0

    mutating func next() -> UInt64 {
        defer { index += 1 }
        return values[index % values.count]
    }
}
