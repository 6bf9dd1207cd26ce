import SluiceSLO

let millisecond: UInt64 = 1_000_000
let second: UInt64 = 1_000_000_000
let minute: UInt64 = 60 * second
let hour: UInt64 = 60 * minute
let day: UInt64 = 24 * hour

/// An objective that must be valid: a test that builds a bad one fails loudly.
func objective(_ target: Double, _ kind: SLObjective.Kind = .availability) -> SLObjective {
    guard let objective = SLObjective(target: target, kind: kind) else { fatalError("invalid test objective \(target)") }
    return objective
}

/// True when `value` is within 10⁻⁹ of `expected`: 1 − 0.999 is not exactly 0.001 in binary.
func close(_ value: Double?, _ expected: Double) -> Bool {
    guard let value else { return false }
    return abs(value - expected) < 1e-9
}
