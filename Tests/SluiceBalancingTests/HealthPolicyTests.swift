import Testing
import SluiceBalancing

private let second: UInt64 = 1_000_000_000

/// Feeds `checks` to `state`, returning what each one reported.
private func run(_ state: inout ActiveHealthState, _ checks: [Bool]) -> [HealthTransition?] {
    checks.map { state.record(passed: $0) }
}

@Suite struct ActiveHealthStateTests {
    @Test func fallConsecutiveFailuresTakeItDownNotOneFewer() {
        var state = ActiveHealthState(rise: 2, fall: 3)
        #expect(run(&state, [false, false]) == [nil, nil])
        #expect(state.isHealthy)
        #expect(run(&state, [false]) == [.becameUnhealthy])
        #expect(!state.isHealthy)
        // Further failures report nothing: the state did not change.
        #expect(run(&state, [false]) == [nil])
    }

    @Test func riseConsecutivePassesBringItBackNotOneFewer() {
        var state = ActiveHealthState(rise: 2, fall: 3, startsHealthy: false)
        #expect(run(&state, [true]) == [nil])
        #expect(!state.isHealthy)
        #expect(run(&state, [true]) == [.becameHealthy])
        #expect(state.isHealthy)
        #expect(run(&state, [true]) == [nil])
    }

    @Test func flappingNeverTransitions() {
        var healthy = ActiveHealthState(rise: 2, fall: 2)
        var unhealthy = ActiveHealthState(rise: 2, fall: 2, startsHealthy: false)
        let flapping = (0..<20).map { $0.isMultiple(of: 2) }
        let none = [HealthTransition?](repeating: nil, count: 20)
        #expect(run(&healthy, flapping.map { !$0 }) == none)
        #expect(run(&unhealthy, flapping) == none)
        #expect(healthy.isHealthy)
        #expect(!unhealthy.isHealthy)
    }

    @Test func aPassResetsTheFailureRun() {
        var state = ActiveHealthState(rise: 1, fall: 3)
        _ = run(&state, [false, false])
        #expect(state.streak == 2)
        _ = run(&state, [true])
        #expect(state.streak == 0)
        #expect(run(&state, [false, false, false]) == [nil, nil, .becameUnhealthy])
    }

    @Test func aFailureResetsThePassRun() {
        var state = ActiveHealthState(rise: 3, fall: 1, startsHealthy: false)
        #expect(run(&state, [true, true, false, true, true]) == [nil, nil, nil, nil, nil])
        #expect(run(&state, [true]) == [.becameHealthy])
    }

    @Test func startsAsInitSays() {
        #expect(ActiveHealthState(rise: 2, fall: 3).isHealthy)
        #expect(!ActiveHealthState(rise: 2, fall: 3, startsHealthy: false).isHealthy)
    }

    @Test func countsBelowOneActAsOne() {
        var state = ActiveHealthState(rise: 0, fall: -4)
        #expect(run(&state, [false, true]) == [.becameUnhealthy, .becameHealthy])
    }
}

@Suite struct PanicThresholdTests {
    @Test func panicsOnlyBelowTheThreshold() {
        #expect(!PanicThreshold.isPanicking(healthy: 5, total: 10, thresholdPercent: 50))
        #expect(PanicThreshold.isPanicking(healthy: 4, total: 10, thresholdPercent: 50))
        #expect(!PanicThreshold.isPanicking(healthy: 2, total: 3, thresholdPercent: 50))
        #expect(PanicThreshold.isPanicking(healthy: 1, total: 3, thresholdPercent: 50))
        #expect(PanicThreshold.isPanicking(healthy: 0, total: 1, thresholdPercent: 50))
    }

    @Test func fullThresholdPanicsOnAnyUnhealthyBackend() {
        #expect(!PanicThreshold.isPanicking(healthy: 10, total: 10, thresholdPercent: 100))
        #expect(PanicThreshold.isPanicking(healthy: 9, total: 10, thresholdPercent: 100))
    }

    @Test func zeroThresholdDisablesPanic() {
        #expect(!PanicThreshold.isPanicking(healthy: 0, total: 10, thresholdPercent: 0))
    }

    @Test func emptyClusterDoesNotPanic() {
        #expect(!PanicThreshold.isPanicking(healthy: 0, total: 0, thresholdPercent: 50))
    }

    @Test func defaultIsEnvoysFiftyPercent() {
        #expect(PanicThreshold.defaultPercent == 50)
    }
}

@Suite struct SlowStartTests {
    let ramp = SlowStart(window: 60 * second)
    let start: UInt64 = 1_000 * second

    @Test func fractionStartsAtTheMinimumAndRampsLinearly() {
        #expect(ramp.fraction(since: start, now: start) == 0.1)
        #expect(ramp.fraction(since: start, now: start + 3 * second) == 0.1)
        #expect(ramp.fraction(since: start, now: start + 30 * second) == 0.5)
        #expect(ramp.fraction(since: start, now: start + 45 * second) == 0.75)
        #expect(ramp.fraction(since: start, now: start + 60 * second) == 1)
        #expect(ramp.fraction(since: start, now: start + 600 * second) == 1)
    }

    @Test func minimumFractionIsConfigurable() {
        let gentle = SlowStart(window: 60 * second, minimumFraction: 0.25)
        #expect(gentle.fraction(since: start, now: start + 6 * second) == 0.25)
        #expect(gentle.fraction(since: start, now: start + 30 * second) == 0.5)
    }

    @Test func aClockBeforeTheStartCountsAsTheStart() {
        #expect(ramp.fraction(since: start, now: start - second) == 0.1)
    }

    @Test func zeroWindowDisablesSlowStart() {
        let off = SlowStart(window: 0)
        #expect(off.fraction(since: start, now: start) == 1)
        #expect(off.weight(3, since: start, now: start, scale: 100) == 300)
    }

    @Test func aggressionRampsFasterEarly() {
        let eager = SlowStart(window: 60 * second, aggression: 2)
        // (1/4)^(1/2) = 1/2: a quarter of the way through, half the weight.
        #expect(abs(eager.fraction(since: start, now: start + 15 * second) - 0.5) < 1e-12)
    }

    @Test func scaledWeightsRampAndStayAtLeastOne() {
        #expect(ramp.weight(1, since: start, now: start, scale: 100) == 10)
        #expect(ramp.weight(1, since: start, now: start + 30 * second, scale: 100) == 50)
        #expect(ramp.weight(3, since: start, now: start + 30 * second, scale: 100) == 150)
        #expect(ramp.weight(3, since: start, now: start + 60 * second, scale: 100) == 300)
        // Unscaled, a weight-1 backend cannot go below 1.
        #expect(ramp.weight(1, since: start, now: start, scale: 1) == 1)
    }
}

@Suite struct CircuitBreakerPolicyTests {
    @Test func capsInFlightRequests() {
        let policy = CircuitBreakerPolicy(maxInFlight: 2)
        #expect(policy.allows(inFlight: 1, pendingConnects: 0, needsConnect: false))
        #expect(!policy.allows(inFlight: 2, pendingConnects: 0, needsConnect: false))
    }

    @Test func capsPendingConnectsOnlyForRequestsThatConnect() {
        let policy = CircuitBreakerPolicy(maxPendingConnects: 1)
        #expect(policy.allows(inFlight: 100, pendingConnects: 0, needsConnect: true))
        #expect(!policy.allows(inFlight: 0, pendingConnects: 1, needsConnect: true))
        #expect(policy.allows(inFlight: 0, pendingConnects: 1, needsConnect: false))
    }

    @Test func nilMeansNoCap() {
        let policy = CircuitBreakerPolicy()
        #expect(policy.allows(inFlight: .max, pendingConnects: .max, needsConnect: true))
    }
}
