#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOConcurrencyHelpers
import SluiceTestSupport

/// The real `sluice` binary, run as a child process: how the drain, `check` and memory tests
/// see what an operator sees (signals, exit codes, log lines, RSS).
///
/// The binary is `<package root>/.build/debug/sluice` unless `SLUICE_BIN` names another;
/// `swift test` does not rebuild it, so run `swift build --product sluice` first
/// (scripts/test.sh does).
final class SluiceProcess: Sendable {
    struct LaunchError: Error, CustomStringConvertible {
        var description: String
    }

    /// Exit code and output of a command that ran to completion.
    struct CommandResult: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let child: ChildProcess
    /// The listener's bound port, read from the `listening` log line.
    let port: Int
    private let configFile: TemporaryFile.Box

    var pid: Int32 { child.pid }
    /// The configuration file it was started with (tests rewrite it to reload).
    var configPath: String { configFile.file.path }
    var stdoutText: String { child.stdoutText }
    var stderrText: String { child.stderrText }
    var isRunning: Bool { child.isRunning }
    var url: String { "http://127.0.0.1:\(port)" }

    private init(child: ChildProcess, port: Int, configFile: TemporaryFile.Box) {
        self.child = child
        self.port = port
        self.configFile = configFile
    }

    /// `<package root>/.build/debug/sluice`, or `SLUICE_BIN`.
    static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["SLUICE_BIN"], !path.isEmpty { return path }
        // #filePath is <root>/Tests/SluiceProxyTests/Support/SluiceProcess.swift
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { root.deleteLastPathComponent() }
        return root.appendingPathComponent(".build/debug/sluice").path
    }

    /// The package root (for repository files such as `sluice.example.yaml`).
    static var packageRoot: String {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { root.deleteLastPathComponent() }
        return root.path
    }

    /// Writes `configYAML` to a temporary file, runs `sluice run -c FILE`, and waits (bounded)
    /// for the first `listening` line to learn the port. The process is killed if that fails.
    static func start(
        configYAML: String,
        extraArguments: [String] = [],
        startupTimeout: Double = 20
    ) async throws -> SluiceProcess {
        let file = try TemporaryFile.Box(TemporaryFile(contents: configYAML, name: "sluice-process-config"))
        let child = try ChildProcess.launch(binaryPath, ["run", "-c", file.file.path] + extraArguments)
        let end = Date().addingTimeInterval(startupTimeout)
        while Date() < end {
            if let port = listeningPort(in: child.stderrText) {
                return SluiceProcess(child: child, port: port, configFile: file)
            }
            if !child.isRunning { break }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        if let port = listeningPort(in: child.stderrText) {
            return SluiceProcess(child: child, port: port, configFile: file)
        }
        child.kill()
        _ = child.waitForExit(timeout: 5)
        throw LaunchError(description: """
            sluice did not report a listening address within \(startupTimeout)s \
            (running: \(child.isRunning), binary: \(binaryPath))
            stderr: \(child.stderrText)
            stdout: \(child.stdoutText)
            """)
    }

    /// The admin listener's port, from its `admin listening` line (with `admin.port: 0`).
    var adminPort: Int? {
        for line in stderrText.split(separator: "\n") where line.contains("admin listening") {
            guard let range = line.range(of: "address=") else { continue }
            let address = line[range.upperBound...].prefix { !$0.isWhitespace && $0 != "\"" }
            if let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) { return port }
        }
        return nil
    }

    /// The port in the first `listening` line, which carries
    /// `address=[IPv4]127.0.0.1/127.0.0.1:PORT`.
    static func listeningPort(in log: String) -> Int? {
        for line in log.split(separator: "\n") where line.hasSuffix("listening") || line.contains("] listening") {
            guard let range = line.range(of: "address=") else { continue }
            let address = line[range.upperBound...].prefix { !$0.isWhitespace }
            guard let colon = address.lastIndex(of: ":") else { continue }
            if let port = Int(address[address.index(after: colon)...]), port > 0 { return port }
        }
        return nil
    }

    /// Runs `sluice ARGS` to completion (bounded; killed past the timeout).
    /// `environment` is added to this process's own.
    static func run(_ arguments: [String], timeout: Double = 30, environment: [String: String] = [:]) async throws -> CommandResult {
        try await offPool {
            let merged = environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let child = try ChildProcess.launch(binaryPath, arguments, environment: merged)
            guard let status = child.waitForExit(timeout: timeout) else {
                child.kill()
                _ = child.waitForExit(timeout: 5)
                throw LaunchError(description: "sluice \(arguments.joined(separator: " ")) did not exit within \(timeout)s")
            }
            child.waitForOutput(timeout: 5)
            return CommandResult(status: status, stdout: child.stdoutText, stderr: child.stderrText)
        }
    }

    /// `sluice check -c FILE`.
    static func check(configPath: String, timeout: Double = 30, environment: [String: String] = [:]) async throws -> CommandResult {
        try await run(["check", "-c", configPath], timeout: timeout, environment: environment)
    }

    func signal(_ signal: Int32) { child.signal(signal) }

    /// The exit status once the process has exited (nil if it is still running after
    /// `timeout` seconds). A death by signal returns the signal number; see `exitedBySignal`.
    func waitForExit(timeout: Double) -> Int32? { child.waitForExit(timeout: timeout) }

    /// Async form of `waitForExit`, polling without blocking a cooperative thread.
    func exit(within timeout: Double) async -> Int32? { await child.exited(within: timeout) }

    var exitedBySignal: Bool { child.exitedBySignal }

    /// Peak resident set size (VmHWM) in KiB, nil once the process is gone.
    var peakRSSKiB: Int? { Self.procStatus(pid: pid, field: "VmHWM") }
    /// Current resident set size (VmRSS) in KiB.
    var currentRSSKiB: Int? { Self.procStatus(pid: pid, field: "VmRSS") }

    static func procStatus(pid: Int32, field: String) -> Int? {
        // /proc files report size 0, so read them to end of file rather than by their size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/status") else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let number = line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            return number.flatMap { Int($0) }
        }
        return nil
    }

    /// Cleanup: SIGKILL if still alive, then reap. Safe to call more than once.
    func terminate() {
        if child.isRunning {
            child.kill()
            _ = child.waitForExit(timeout: 10)
        }
    }
}

extension TemporaryFile {
    /// A TemporaryFile kept alive by a Sendable owner (it is never mutated after creation).
    final class Box: @unchecked Sendable {
        let file: TemporaryFile
        init(_ file: TemporaryFile) { self.file = file }
    }
}

/// A child process with stdout and stderr read continuously on background threads into
/// locked buffers (so that a chatty child never blocks on a full pipe).
final class ChildProcess: @unchecked Sendable {
    private let process: Subprocess
    private let stdoutBuffer = OutputBuffer()
    private let stderrBuffer = OutputBuffer()
    let pid: Int32

    private init(process: Subprocess) {
        self.process = process
        self.pid = process.pid
    }

    static func launch(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ChildProcess {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw SluiceProcess.LaunchError(description: "no executable at \(executable): run `swift build --product sluice` first (or set SLUICE_BIN)")
        }
        let process = try Subprocess.launch(executable, arguments, environment: environment)
        let child = ChildProcess(process: process)
        child.stdoutBuffer.startReading(process.stdout!)
        child.stderrBuffer.startReading(process.stderr!)
        return child
    }

    var stdoutText: String { stdoutBuffer.text }
    var stderrText: String { stderrBuffer.text }

    var isRunning: Bool { process.isRunning }

    var exitedBySignal: Bool { process.exitedBySignal }

    func signal(_ signal: Int32) {
        if isRunning { _ = sendSignal(pid, signal) }
    }

    func kill() { signal(SIGKILL) }

    /// Polls (bounded) until the process has exited; its termination status, or nil.
    func waitForExit(timeout: Double) -> Int32? {
        process.waitUntilExit(timeout: timeout)
    }

    /// Async form of `waitForExit`, polling without blocking a cooperative thread.
    func exited(within timeout: Double) async -> Int32? {
        let end = Date().addingTimeInterval(timeout)
        while isRunning, Date() < end { try? await Task.sleep(nanoseconds: 10_000_000) }
        return isRunning ? nil : waitForExit(timeout: 1)
    }

    /// Waits (bounded) until both output pipes reached end of file.
    func waitForOutput(timeout: Double) {
        let end = Date().addingTimeInterval(timeout)
        while !(stdoutBuffer.isFinished && stderrBuffer.isFinished), Date() < end { usleep(5_000) }
    }

    final class OutputBuffer: Sendable {
        private let state = NIOLockedValueBox((bytes: [UInt8](), finished: false))
        var text: String { String(decoding: state.withLockedValue { $0.bytes }, as: UTF8.self) }
        var isFinished: Bool { state.withLockedValue { $0.finished } }

        /// Reads the pipe until end of file on a dedicated thread (blocking reads must not
        /// occupy Swift's cooperative pool).
        func startReading(_ pipe: FileHandle) {
            let handle = SendableHandle(pipe)
            let thread = Thread { [self] in
                let descriptor = handle.handle.fileDescriptor
                var chunk = [UInt8](repeating: 0, count: 16 * 1024)
                while true {
                    let count = chunk.withUnsafeMutableBytes { readBytes(descriptor, $0.baseAddress, $0.count) }
                    if count < 0, errno == EINTR { continue }
                    if count <= 0 { break }
                    state.withLockedValue { $0.bytes += chunk[0..<count] }
                }
                state.withLockedValue { $0.finished = true }
                try? handle.handle.close()
            }
            thread.start()
        }
    }

    private struct SendableHandle: @unchecked Sendable {
        let handle: FileHandle
        init(_ handle: FileHandle) { self.handle = handle }
    }
}

/// Runs blocking work (a child process, a wait for it) on a plain thread, so that it does not
/// hold one of the (few) cooperative threads the rest of the tests need.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.start()
    }
}

private func sendSignal(_ pid: Int32, _ signal: Int32) -> Int32 { kill(pid, signal) }

private func readBytes(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

extension SluiceProcess {
    /// A config for one listener on 127.0.0.1 (OS-chosen port) in front of one backend;
    /// `extra` is appended as top-level YAML.
    static func oneBackendConfig(backend: TestBackend, extra: String = "") -> String {
        """
        event_loops: 1
        listeners:
          - name: main
            address: 127.0.0.1
            port: 0
        clusters:
          - name: web
            backends:
              - address: \(backend.address)
        routes:
          - cluster: web
        admin:
          port: 0
        \(extra)
        """
    }
}
