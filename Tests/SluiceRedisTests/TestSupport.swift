#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore
import NIOPosix
import SluiceTestSupport
@testable import SluiceRedis

/// Command and connect timeout for tests that expect answers: generous, since a loaded 2-core
/// machine can stall a process for far longer than the 50 ms (500 ms connect) defaults. Only
/// the tests about timeouts use short ones.
let patientTimeout = TimeAmount.seconds(5)

/// The Redis clients' own event loops: the shared singleton also carries the other suites'
/// backends and bulk transfers, and a reply waiting behind those is not what these tests test.
let redisTestGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

/// How long a loaded machine may stall a test: the slack in every bound on how long
/// something may take ("fails within the timeout" is "within the timeout plus this").
let loadSlack: Double = 10

/// The longest a test against a real server may take before it counts as hung: far more
/// than any needs (well under a second alone, a few seconds on a loaded machine).
let testDeadline: Double = 120

/// Waits (bounded) until `condition` holds; polls instead of sleeping a fixed time, so a slow
/// machine only makes the test slower. Returns whether it held in time.
func eventually(within seconds: Double = 30, _ condition: () async -> Bool) async -> Bool {
    let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < end {
        if await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return await condition()
}

/// An await that did not end within its bound.
struct Hung: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "still waiting after \(seconds)s: hung" }
}

/// How long `body` took, and what it threw (nil if nothing). A `body` still running after
/// `limit` seconds is left behind: the answer is then `Hung` after about `limit`, so that a
/// hang fails the bound a test puts on `seconds` instead of blocking the run.
func timed(within limit: Double, _ body: @escaping @Sendable () async throws -> Void) async -> (seconds: Double, error: (any Error)?) {
    let start = ContinuousClock.now
    let result = await race(limit, body)
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    switch result {
    case .success?: return (seconds, nil)
    case .failure(let error)?: return (seconds, error)
    case nil: return (seconds, Hung(seconds: limit))
    }
}

/// Runs a test's `body` with a hard deadline (`testDeadline`): a test that hangs (an await
/// the client never completes) fails with `Hung`, its servers are killed, and the run goes
/// on. Every test that talks to a real server runs in one.
func withTestDeadline(_ seconds: Double = testDeadline, _ body: @escaping @Sendable () async throws -> Void) async throws {
    let servers = ServerRegistry()
    let result = await ServerRegistry.$current.withValue(servers) { await race(seconds, body) }
    switch result {
    case .success?: return
    case .failure(let error)?: throw error
    case nil:
        servers.killAll()
        throw Hung(seconds: seconds)
    }
}

/// `body`'s outcome, or nil if it did not end within `seconds`. Unlike a task group, which
/// waits for its children, this returns on time even if `body` ignores cancellation (as an
/// `EventLoopFuture.get()` does): `body` is then left to itself.
func race<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
    await withCheckedContinuation { continuation in
        let once = ResumeOnce(continuation)
        let timer = Task {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            once.resume(nil)
        }
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            once.resume(result)
            timer.cancel()
        }
    }
}

/// A continuation resumed by whichever comes first; later values are dropped.
private final class ResumeOnce<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value, Never>?

    init(_ continuation: CheckedContinuation<Value, Never>) { self.continuation = continuation }

    func resume(_ value: Value) {
        let taken = lock.withLock {
            defer { continuation = nil }
            return continuation
        }
        taken?.resume(returning: value)
    }
}

extension RedisServerProcess {
    func configuration(
        password: String? = nil, username: String? = nil, database: Int = 0,
        commandTimeout: TimeAmount = patientTimeout, poolSize: Int = 2,
        backoff: RedisBackoff = RedisBackoff()
    ) -> RedisConfiguration {
        RedisConfiguration(
            host: "127.0.0.1", port: port, username: username, password: password, database: database,
            commandTimeout: commandTimeout, connectTimeout: patientTimeout, poolSize: poolSize, backoff: backoff
        )
    }

    func client(_ configuration: RedisConfiguration? = nil) -> RedisClient {
        RedisClient(configuration: configuration ?? self.configuration(), group: redisTestGroup, randomSeed: 42)
    }

    func connection(_ configuration: RedisConfiguration? = nil) async throws -> RedisConnection {
        try await RedisConnection.connect(configuration ?? self.configuration(), on: redisTestGroup.next()).get()
    }
}

extension RedisConfiguration {
    /// `url` parsed, with the patient command and connect timeouts instead of the defaults.
    static func patient(_ url: String) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: url)
        configuration.commandTimeout = patientTimeout
        configuration.connectTimeout = patientTimeout
        return configuration
    }
}

/// A 127.0.0.1 port that nothing listens on while this lives: bound but never listening, so
/// connects to it are refused and no server (another test's) can take it meanwhile.
final class ReservedPort {
    let port: Int
    private let descriptor: Int32

    init() throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw RedisServerProcess.LaunchError(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else {
            let error = errno
            close(descriptor)
            throw RedisServerProcess.LaunchError(description: "bind 127.0.0.1:0: errno \(error)")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
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
