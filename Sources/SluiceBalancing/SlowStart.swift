#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Envoy's slow start: a backend that just joined or came back gets a share of its weight that
/// grows over `window`, so a cold cache or JIT is not hit with full load at once.
///
/// share = max(minimumFraction, (elapsed / window) ^ (1 / aggression)), and 1 once the window
/// has passed. Aggression 1 is a linear ramp; above 1 ramps faster early on.
public struct SlowStart: Sendable, Equatable {
    /// Length of the ramp in nanoseconds; 0 disables slow start.
    public let window: UInt64
    /// The share a backend starts at, Envoy's min_weight_percent (10 %), so it still gets some
    /// traffic to warm up with.
    public let minimumFraction: Double
    public let aggression: Double

    public init(window: UInt64, minimumFraction: Double = 0.1, aggression: Double = 1) {
        self.window = window
        self.minimumFraction = min(1, max(0, minimumFraction))
        self.aggression = aggression > 0 ? aggression : 1
    }

    /// The share of its weight a backend available since `becameAvailable` gets at `now`, in
    /// [minimumFraction, 1].
    public func fraction(since becameAvailable: UInt64, now: UInt64) -> Double {
        guard window > 0 else { return 1 }
        let elapsed = now > becameAvailable ? now - becameAvailable : 0
        guard elapsed < window else { return 1 }
        let linear = Double(elapsed) / Double(window)
        let ramped = aggression == 1 ? linear : pow(linear, 1 / aggression)
        return max(minimumFraction, ramped)
    }

    /// `configured` × `scale` × the current fraction, rounded, at least 1. The data path
    /// multiplies every backend's weight by the same `scale` (e.g. 100) while slow start is
    /// configured, so that a weight-1 backend has room to ramp in integer steps.
    public func weight(_ configured: Int, since becameAvailable: UInt64, now: UInt64, scale: Int) -> Int {
        let full = configured * scale
        let share = fraction(since: becameAvailable, now: now)
        guard share < 1 else { return max(1, full) }
        return max(1, Int((Double(full) * share).rounded()))
    }
}
