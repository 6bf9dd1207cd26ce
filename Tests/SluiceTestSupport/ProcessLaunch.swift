import Foundation

/// Foundation's `Process.run()` on Linux is not safe to call from several threads at once (a
/// test run crashed in it, copying memory, while two curls were launched together): every
/// child process of the tests is launched under this lock. Only the launch: waiting for the
/// child and reading its output happen outside it.
public enum ProcessLaunch {
    private static let lock = NSLock()

    public static func run(_ process: Process) throws {
        lock.lock()
        defer { lock.unlock() }
        try process.run()
    }
}
