import NIOCore
import NIOPosix
@testable import SluiceRedis

/// Waits (bounded) until `condition` holds; polls instead of sleeping a fixed time, so a slow
/// machine only makes the test slower. Returns whether it held in time.
func eventually(within seconds: Double = 10, _ condition: () async -> Bool) async -> Bool {
    let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < end {
        if await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return await condition()
}

/// How long `body` took, and what it threw (nil if nothing).
func timed(_ body: () async throws -> Void) async -> (seconds: Double, error: (any Error)?) {
    let start = ContinuousClock.now
    var caught: (any Error)?
    do { try await body() } catch { caught = error }
    let elapsed = ContinuousClock.now - start
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, caught)
}

/// Command timeout for tests that expect answers: generous, since a loaded 2-core machine
/// can stall a process for far longer than the 50 ms default.
let patientTimeout = TimeAmount.seconds(5)

extension RedisServerProcess {
    func configuration(
        password: String? = nil, username: String? = nil, database: Int = 0,
        commandTimeout: TimeAmount = patientTimeout, poolSize: Int = 2,
        backoff: RedisBackoff = RedisBackoff()
    ) -> RedisConfiguration {
        RedisConfiguration(
            host: "127.0.0.1", port: port, username: username, password: password, database: database,
            commandTimeout: commandTimeout, connectTimeout: .seconds(5), poolSize: poolSize, backoff: backoff
        )
    }

    func client(_ configuration: RedisConfiguration? = nil) -> RedisClient {
        RedisClient(configuration: configuration ?? self.configuration(), randomSeed: 42)
    }

    func connection(_ configuration: RedisConfiguration? = nil) async throws -> RedisConnection {
        try await RedisConnection.connect(configuration ?? self.configuration(), on: MultiThreadedEventLoopGroup.singleton.next()).get()
    }
}

/// A future's outcome on an `EmbeddedEventLoop`, where callbacks run inline (`wait()` would trap).
final class Outcome<Value>: @unchecked Sendable {
    private(set) var result: Result<Value, any Error>?

    init(_ future: EventLoopFuture<Value>) {
        future.assumeIsolated().whenComplete { self.result = $0 }
    }

    var value: Value? { try? result?.get() }
    var error: RedisError? {
        if case .failure(let error) = result { error as? RedisError } else { nil }
    }
}
