import Testing
import SluiceBalancing

private let second: UInt64 = 1_000_000_000

/// Records `count` of `outcome` for `backend` at `now`, returning the last event.
@discardableResult
private func repeatOutcome(
    _ outcome: UpstreamOutcome, _ count: Int, backend: Int, on detector: inout OutlierDetector, now: UInt64
) -> OutlierEvent? {
    var last: OutlierEvent?
    for _ in 0..<count { last = detector.record(outcome, backend: backend, now: now) }
    return last
}

/// Records each of `outcomes` in turn, returning every event.
private func record(
    _ outcomes: [UpstreamOutcome], backend: Int, on detector: inout OutlierDetector, now: UInt64
) -> [OutlierEvent?] {
    outcomes.map { detector.record($0, backend: backend, now: now) }
}

@Suite struct OutlierDetectorTests {
    @Test func ejectsAfterExactlyNConsecutiveServerErrors() {
        var detector = OutlierDetector(backendCount: 10, policy: OutlierPolicy())
        #expect(repeatOutcome(.serverError, 4, backend: 3, on: &detector, now: 0) == nil)
        #expect(!detector.isEjected(3, now: 0))
        let event = detector.record(.serverError, backend: 3, now: 0)
        #expect(event == .ejected(backend: 3, reason: .consecutiveServerErrors, until: 30 * second))
        #expect(detector.isEjected(3, now: 0))
        #expect(!detector.isEjected(2, now: 0))
    }

    @Test func aSuccessInBetweenResetsTheRun() {
        var detector = OutlierDetector(backendCount: 10)
        repeatOutcome(.serverError, 4, backend: 0, on: &detector, now: 0)
        #expect(record([.success], backend: 0, on: &detector, now: 0) == [nil])
        #expect(detector.state(of: 0, now: 0).consecutiveServerErrors == 0)
        #expect(repeatOutcome(.serverError, 4, backend: 0, on: &detector, now: 0) == nil)
        #expect(!detector.isEjected(0, now: 0))
    }

    @Test func gatewayFailuresHaveTheirOwnThreshold() {
        let policy = OutlierPolicy(consecutiveServerErrors: 10, consecutiveGatewayFailures: 3)
        var detector = OutlierDetector(backendCount: 10, policy: policy)
        let events = record([.connectFailure, .timeout, .reset], backend: 1, on: &detector, now: 0)
        #expect(events == [nil, nil, .ejected(backend: 1, reason: .consecutiveGatewayFailures, until: 30 * second)])
    }

    @Test func aServerErrorEndsAGatewayRunButStillCountsAsAServerError() {
        let policy = OutlierPolicy(consecutiveServerErrors: 5, consecutiveGatewayFailures: 3)
        var detector = OutlierDetector(backendCount: 10, policy: policy)
        repeatOutcome(.connectFailure, 2, backend: 0, on: &detector, now: 0)
        #expect(record([.serverError], backend: 0, on: &detector, now: 0) == [nil])
        #expect(detector.state(of: 0, now: 0).consecutiveGatewayFailures == 0)
        // Gateway failures answer the client with a 5xx too, so five in all eject.
        let events = record([.connectFailure, .timeout], backend: 0, on: &detector, now: 0)
        #expect(events == [nil, .ejected(backend: 0, reason: .consecutiveServerErrors, until: 30 * second)])
    }

    @Test func zeroThresholdDisablesARule() {
        let policy = OutlierPolicy(consecutiveServerErrors: 0, consecutiveGatewayFailures: 2)
        var detector = OutlierDetector(backendCount: 10, policy: policy)
        #expect(repeatOutcome(.serverError, 50, backend: 0, on: &detector, now: 0) == nil)
        let events = record([.connectFailure, .connectFailure], backend: 0, on: &detector, now: 0)
        #expect(events == [nil, .ejected(backend: 0, reason: .consecutiveGatewayFailures, until: 30 * second)])
    }

    @Test func ejectionTimeDoublesUpToTheCap() {
        var detector = OutlierDetector(backendCount: 10)
        var now: UInt64 = 1_000 * second
        var lengths: [UInt64] = []
        for _ in 0..<7 {
            guard case .ejected(_, _, let until) = repeatOutcome(.serverError, 5, backend: 0, on: &detector, now: now)
            else { Issue.record("not ejected"); return }
            lengths.append((until - now) / second)
            // Fail again the moment it returns, so no decay happens in between.
            now = until
        }
        #expect(lengths == [30, 60, 120, 240, 300, 300, 300])
    }

    @Test func returnsAfterTheEjectionTimeAndIsReportedOnce() {
        var detector = OutlierDetector(backendCount: 10)
        repeatOutcome(.serverError, 5, backend: 4, on: &detector, now: 0)
        let early = detector.expire(now: 30 * second - 1)
        #expect(early == [])
        #expect(detector.isEjected(4, now: 30 * second - 1))
        #expect(!detector.isEjected(4, now: 30 * second))
        let onTime = detector.expire(now: 30 * second)
        #expect(onTime == [4])
        let again = detector.expire(now: 31 * second)
        #expect(again == [])
    }

    @Test func aReturnSeenFirstByRecordIsStillReported() {
        var detector = OutlierDetector(backendCount: 10)
        repeatOutcome(.serverError, 5, backend: 4, on: &detector, now: 0)
        #expect(record([.success], backend: 4, on: &detector, now: 40 * second) == [nil])
        let returned = detector.expire(now: 41 * second)
        #expect(returned == [4])
    }

    @Test func outcomesWhileEjectedAreIgnored() {
        var detector = OutlierDetector(backendCount: 10)
        repeatOutcome(.serverError, 5, backend: 0, on: &detector, now: 0)
        #expect(repeatOutcome(.serverError, 20, backend: 0, on: &detector, now: second) == nil)
        #expect(detector.state(of: 0, now: second).consecutiveServerErrors == 0)
        #expect(detector.state(of: 0, now: second).ejectedUntil == 30 * second)
    }

    @Test func ejectionCountDecaysOnePerBaseTimeInRotation() {
        var detector = OutlierDetector(backendCount: 10)
        // Two ejections back to back: 30 s then 60 s, back at 90 s with a count of 2.
        repeatOutcome(.serverError, 5, backend: 0, on: &detector, now: 0)
        repeatOutcome(.serverError, 5, backend: 0, on: &detector, now: 30 * second)
        #expect(detector.state(of: 0, now: 89 * second).ejectionCount == 2)
        #expect(detector.state(of: 0, now: 90 * second).ejectionCount == 2)
        #expect(detector.state(of: 0, now: 119 * second).ejectionCount == 2)
        #expect(detector.state(of: 0, now: 120 * second).ejectionCount == 1)
        #expect(detector.state(of: 0, now: 150 * second).ejectionCount == 0)

        // One base time clean: the next ejection is the second one again, 60 s.
        var once = detector
        let event = repeatOutcome(.serverError, 5, backend: 0, on: &once, now: 120 * second)
        #expect(event == .ejected(backend: 0, reason: .consecutiveServerErrors, until: 180 * second))

        // Fully decayed: back to the base time.
        let fresh = repeatOutcome(.serverError, 5, backend: 0, on: &detector, now: 150 * second)
        #expect(fresh == .ejected(backend: 0, reason: .consecutiveServerErrors, until: 180 * second))
    }

    @Test func decayStartsFromTheCappedCount() {
        var detector = OutlierDetector(backendCount: 10)
        var now: UInt64 = 0
        for _ in 0..<10 {
            guard case .ejected(_, _, let until) = repeatOutcome(.serverError, 5, backend: 0, on: &detector, now: now)
            else { Issue.record("not ejected"); return }
            now = until
        }
        // Ten ejections, but the count stops where the time stopped doubling.
        #expect(detector.state(of: 0, now: now).ejectionCount == 5)
        #expect(detector.state(of: 0, now: now + 150 * second).ejectionCount == 0)
    }

    @Test func threeBackendsAllowOneEjection() {
        var detector = OutlierDetector(backendCount: 3)
        #expect(detector.maxEjected == 1)
        #expect(repeatOutcome(.serverError, 5, backend: 0, on: &detector, now: 0) != nil)
        let other = repeatOutcome(.serverError, 5, backend: 1, on: &detector, now: 0)
        #expect(other == .ejectionSkipped(backend: 1, reason: .consecutiveServerErrors))
        #expect(!detector.isEjected(1, now: 0))
        #expect(detector.ejectedCount(now: 0) == 1)
    }

    @Test func twentyBackendsAllowTwoEjections() {
        var detector = OutlierDetector(backendCount: 20)
        #expect(detector.maxEjected == 2)
        for backend in 0..<2 {
            guard case .ejected = repeatOutcome(.serverError, 5, backend: backend, on: &detector, now: 0)
            else { Issue.record("backend \(backend) not ejected"); return }
        }
        let third = repeatOutcome(.serverError, 5, backend: 2, on: &detector, now: 0)
        #expect(third == .ejectionSkipped(backend: 2, reason: .consecutiveServerErrors))
        #expect(detector.ejectedCount(now: 0) == 2)
    }

    @Test func aReturnedBackendFreesItsPlaceUnderTheLimit() {
        var detector = OutlierDetector(backendCount: 3)
        repeatOutcome(.serverError, 5, backend: 0, on: &detector, now: 0)
        let event = repeatOutcome(.serverError, 5, backend: 1, on: &detector, now: 30 * second)
        #expect(event == .ejected(backend: 1, reason: .consecutiveServerErrors, until: 60 * second))
    }

    @Test func zeroPercentStillEjectsOne() {
        var detector = OutlierDetector(backendCount: 100, policy: OutlierPolicy(maxEjectionPercent: 0))
        #expect(detector.maxEjected == 1)
        #expect(repeatOutcome(.serverError, 5, backend: 7, on: &detector, now: 0) != nil)
        #expect(detector.isEjected(7, now: 0))
    }

    @Test func resetBringsItBackWithNoHistory() {
        var detector = OutlierDetector(backendCount: 10)
        repeatOutcome(.serverError, 5, backend: 0, on: &detector, now: 0)
        repeatOutcome(.serverError, 5, backend: 0, on: &detector, now: 30 * second)
        repeatOutcome(.serverError, 3, backend: 1, on: &detector, now: 30 * second)
        detector.reset(backend: 0)
        detector.reset(backend: 1)
        #expect(!detector.isEjected(0, now: 31 * second))
        #expect(detector.state(of: 0, now: 31 * second) == OutlierBackendState())
        #expect(detector.state(of: 1, now: 31 * second).consecutiveServerErrors == 0)
        // The caller brought it back, so expire does not report it.
        let returned = detector.expire(now: 1_000 * second)
        #expect(returned == [])
        let event = repeatOutcome(.serverError, 5, backend: 0, on: &detector, now: 40 * second)
        #expect(event == .ejected(backend: 0, reason: .consecutiveServerErrors, until: 70 * second))
    }

    @Test func outOfRangeBackendsAreIgnored() {
        var detector = OutlierDetector(backendCount: 2)
        #expect(repeatOutcome(.serverError, 5, backend: 2, on: &detector, now: 0) == nil)
        #expect(repeatOutcome(.serverError, 5, backend: -1, on: &detector, now: 0) == nil)
        #expect(!detector.isEjected(5, now: 0))
    }
}
