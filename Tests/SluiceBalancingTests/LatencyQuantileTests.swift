import Testing
import SluiceBalancing

private let second: UInt64 = 1_000_000_000
private let millisecond: UInt64 = 1_000_000

private func relativeError(_ estimate: UInt64?, _ truth: UInt64) -> Double {
    guard let estimate else { return .infinity }
    return abs(Double(estimate) - Double(truth)) / Double(truth)
}

@Suite struct LatencyQuantileTests {
    @Test func p95OfAUniformDistributionIsWithinThreePercent() {
        var estimator = LatencyQuantile()
        // 0.1 ms, 0.2 ms ... 100 ms, shuffled so order cannot help.
        var latencies = (1...1_000).map { UInt64($0) * 100_000 }
        var random = SeededRandom()
        latencies.shuffle(using: &random)
        for latency in latencies { estimator.record(latency, now: 0) }
        // Nearest rank: the 950th smallest is 95 ms.
        #expect(relativeError(estimator.quantile(0.95, now: 0), 95 * millisecond) <= 1.0 / 32)
        #expect(relativeError(estimator.quantile(0.5, now: 0), 50 * millisecond) <= 1.0 / 32)
        #expect(relativeError(estimator.quantile(0.99, now: 0), 99 * millisecond) <= 1.0 / 32)
    }

    @Test func p95OfALongTailedDistributionIsWithinThreePercent() {
        var estimator = LatencyQuantile()
        // 900 fast requests around 2 ms and 100 slow ones from 50 ms to 545 ms.
        for index in 0..<900 { estimator.record(2 * millisecond + UInt64(index) * 1_000, now: 0) }
        for index in 0..<100 { estimator.record(50 * millisecond + UInt64(index) * 5 * millisecond, now: 0) }
        // The 950th smallest is the 50th slow one: 50 ms + 49 × 5 ms.
        #expect(relativeError(estimator.quantile(0.95, now: 0), 295 * millisecond) <= 1.0 / 32)
    }

    @Test func everyMagnitudeIsWithinTheStatedError() {
        var value: UInt64 = 1
        while value < 1 << 40 {
            var estimator = LatencyQuantile(minimumSamples: 1)
            estimator.record(value, now: 0)
            #expect(relativeError(estimator.quantile(0.95, now: 0), value) <= 1.0 / 32, "value \(value)")
            value = value * 3 + 1
        }
    }

    @Test func nilBeforeEnoughSamples() {
        var estimator = LatencyQuantile(minimumSamples: 20)
        for _ in 0..<19 { estimator.record(millisecond, now: 0) }
        #expect(estimator.quantile(0.95, now: 0) == nil)
        estimator.record(millisecond, now: 0)
        #expect(estimator.quantile(0.95, now: 0) != nil)
    }

    @Test func samplesAgeOutOfTheWindow() {
        var estimator = LatencyQuantile(window: 30 * second, subWindows: 6, minimumSamples: 20)
        for _ in 0..<100 { estimator.record(10 * millisecond, now: 0) }
        for _ in 0..<100 { estimator.record(50 * millisecond, now: 20 * second) }
        // At 29 s both are in the window: the median sits on the lower half's top.
        #expect(estimator.sampleCount(now: 29 * second) == 200)
        #expect(relativeError(estimator.quantile(0.5, now: 29 * second), 10 * millisecond) <= 1.0 / 32)
        // At 30 s the sub-window of second 0 has left: only 50 ms remains.
        #expect(estimator.sampleCount(now: 30 * second) == 100)
        #expect(relativeError(estimator.quantile(0.5, now: 30 * second), 50 * millisecond) <= 1.0 / 32)
        // At 50 s everything has aged out.
        #expect(estimator.quantile(0.5, now: 50 * second) == nil)
        #expect(estimator.sampleCount(now: 50 * second) == 0)
    }

    @Test func aReusedSubWindowStartsEmpty() {
        var estimator = LatencyQuantile(window: 30 * second, subWindows: 6, minimumSamples: 1)
        estimator.record(10 * millisecond, now: 0)
        // 30 s later the same ring slot serves a new sub-window.
        estimator.record(80 * millisecond, now: 30 * second)
        #expect(estimator.sampleCount(now: 30 * second) == 1)
        #expect(relativeError(estimator.quantile(0, now: 30 * second), 80 * millisecond) <= 1.0 / 32)
    }

    @Test func extremeQuantilesAreTheSmallestAndLargest() {
        var estimator = LatencyQuantile(minimumSamples: 1)
        for latency: UInt64 in [5, 1_000, 7 * millisecond] { estimator.record(latency, now: 0) }
        #expect(estimator.quantile(0, now: 0) == 5)
        #expect(relativeError(estimator.quantile(1, now: 0), 7 * millisecond) <= 1.0 / 32)
    }
}
