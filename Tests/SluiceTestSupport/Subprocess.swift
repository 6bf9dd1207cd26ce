#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A child process launched with `posix_spawn`, for every process the tests start (curl,
/// `sluice`, `redis-server`).
///
/// Why not Foundation's `Process`: on Linux its `run()` crashed the test process now and then
/// (a memmove past a page) when tests launched children from several threads. Here the child
/// gets only stdin/stdout/stderr: every other descriptor is closed in it
/// (`posix_spawn_file_actions_addclosefrom_np`), so it never holds a test's socket open and a
/// close the test waits for is seen.
public final class Subprocess: @unchecked Sendable {
    public enum Output {
        case null
        case pipe
    }

    public struct LaunchError: Error, CustomStringConvertible {
        public var description: String
    }

    public let pid: pid_t
    /// The read ends of the child's stdout and stderr when they were `.pipe`.
    public let stdout: FileHandle?
    public let stderr: FileHandle?

    // Reaping is done only under this lock, by WNOHANG polls, so two waiters never race.
    private let lock = NSLock()
    private var rawStatus: Int32?

    private init(pid: pid_t, stdout: FileHandle?, stderr: FileHandle?) {
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Starts `executable` (an absolute path) with `arguments`; `environment` nil inherits ours.
    public static func launch(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        stdout: Output = .pipe,
        stderr: Output = .pipe
    ) throws -> Subprocess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        var childEnds: [Int32] = []
        defer { childEnds.forEach { close($0) } }
        func wire(_ output: Output, to target: Int32) throws -> FileHandle? {
            switch output {
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
                return nil
            case .pipe:
                var ends: [Int32] = [0, 0]
                // pipe2 is not imported (it needs _GNU_SOURCE); the moment without CLOEXEC does
                // not matter, since every child closes what it inherited above fd 2.
                guard pipe(&ends) == 0 else { throw LaunchError(description: "pipe: errno \(errno)") }
                _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
                _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
                childEnds.append(ends[1])
                posix_spawn_file_actions_adddup2(&actions, ends[1], target)
                return FileHandle(fileDescriptor: ends[0], closeOnDealloc: true)
            }
        }
        let out = try wire(stdout, to: 1)
        let err = try wire(stderr, to: 2)
        guard let addCloseFrom = Self.addCloseFrom else {
            throw LaunchError(description: "this libc has no posix_spawn_file_actions_addclosefrom_np (glibc 2.34+ needed)")
        }
        _ = addCloseFrom(&actions, 3)

        let env = environment.map { $0.map { "\($0.key)=\($0.value)" } }
            ?? ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        // A clean signal state, as a shell would give it: nothing blocked, nothing ignored
        // (the test process's threads may block or ignore signals the child needs).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigfillset(&signals)
        sigdelset(&signals, SIGKILL)
        sigdelset(&signals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        let result = withCStrings([executable] + arguments) { argv in
            withCStrings(env) { envp in
                posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            }
        }
        guard result == 0 else {
            // The read ends close with their FileHandles.
            throw LaunchError(description: "posix_spawn \(executable): \(String(cString: strerror(result)))")
        }
        return Subprocess(pid: pid, stdout: out, stderr: err)
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    // Looked up at run time: Swift's Glibc module does not import it (it is a GNU extension).
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// Polls the child once; true while it has not exited.
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return reapLocked() == nil
    }

    /// The exit code, or the signal number for a death by signal; nil while running.
    public var terminationStatus: Int32? {
        lock.lock()
        defer { lock.unlock() }
        guard let status = reapLocked() else { return nil }
        return Self.exited(status) ? Self.exitCode(status) : Self.signalNumber(status)
    }

    public var exitedBySignal: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let status = reapLocked() else { return false }
        return !Self.exited(status)
    }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Blocks the calling (non-cooperative) thread until the child exits, or `timeout`
    /// seconds pass; the termination status, or nil.
    @discardableResult
    public func waitUntilExit(timeout: Double = .infinity) -> Int32? {
        let end = Date().addingTimeInterval(timeout)
        while isRunning, Date() < end { usleep(5_000) }
        return terminationStatus
    }

    private func reapLocked() -> Int32? {
        if let rawStatus { return rawStatus }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            rawStatus = status
        } else if result < 0, errno == ECHILD {
            rawStatus = 0xFF00 // gone, reaped elsewhere: report exit code 255
        }
        return rawStatus
    }

    // The wait-status macros are not imported into Swift.
    private static func exited(_ status: Int32) -> Bool { status & 0x7F == 0 }
    private static func exitCode(_ status: Int32) -> Int32 { (status >> 8) & 0xFF }
    private static func signalNumber(_ status: Int32) -> Int32 { status & 0x7F }
}

private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
