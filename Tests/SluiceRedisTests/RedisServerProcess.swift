#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore
import NIOPosix

/// A private `redis-server` for one test: 127.0.0.1 only, on a port that was free a moment
/// before (another is tried if the server cannot bind it), no persistence. `start` returns
/// once the server answers PING; `kill` and `restart` (same port, same arguments) let a test
/// take the server away and bring it back; `pause` and `resume` freeze it (SIGSTOP/SIGCONT).
///
/// The binary is `REDIS_SERVER` or the first `redis-server` on PATH; its log goes to a
/// temporary file (`log`) for failure messages.
final class RedisServerProcess: @unchecked Sendable {
    struct LaunchError: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    let arguments: [String]
    let logPath: String
    // `process` is replaced only by `restart`, under `lock`.
    private let lock = NSLock()
    private var process: Process

    var url: String { "redis://127.0.0.1:\(port)" }
    var pid: Int32 { lock.withLock { process.processIdentifier } }
    var isRunning: Bool { lock.withLock { process.isRunning } }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    private init(port: Int, arguments: [String], logPath: String, process: Process) {
        self.port = port
        self.arguments = arguments
        self.logPath = logPath
        self.process = process
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Starts a server with `arguments` added to its command line (e.g. `["--requirepass", "s"]`).
    static func start(_ arguments: [String] = [], startupTimeout: Double = 20) async throws -> RedisServerProcess {
        let logPath = NSTemporaryDirectory() + "sluice-redis-\(UInt64.random(in: 0...UInt64.max)).log"
        var failures: [String] = []
        for _ in 0..<5 {
            let port = try await freePort()
            let process = try launch(port: port, arguments: arguments, logPath: logPath)
            if await waitUntilReady(process, port: port, timeout: startupTimeout) {
                return RedisServerProcess(port: port, arguments: arguments, logPath: logPath, process: process)
            }
            failures.append("port \(port): running \(process.isRunning)")
            signalAndReap(process, SIGKILL)
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw LaunchError(description: "redis-server did not start (\(failures.joined(separator: "; ")))\nlog: \(log)")
    }

    /// SIGKILL and reap; safe to call more than once.
    func kill() {
        lock.withLock { Self.signalAndReap(process, SIGKILL) }
    }

    /// A new server on the same port with the same arguments (the old one is killed first).
    func restart(startupTimeout: Double = 20) async throws {
        kill()
        let process = try Self.launch(port: port, arguments: arguments, logPath: logPath)
        lock.withLock { self.process = process }
        guard await Self.waitUntilReady(process, port: port, timeout: startupTimeout) else {
            throw LaunchError(description: "redis-server did not restart on port \(port)\nlog: \(log)")
        }
    }

    func pause() { lock.withLock { sendSignal(process.processIdentifier, SIGSTOP) } }
    func resume() { lock.withLock { sendSignal(process.processIdentifier, SIGCONT) } }

    static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["REDIS_SERVER"], !path.isEmpty { return path }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in directories + ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"] {
            let candidate = directory + "/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/redis-server"
    }

    private static func launch(port: Int, arguments: [String], logPath: String) throws -> Process {
        guard FileManager.default.isExecutableFile(atPath: binaryPath) else {
            throw LaunchError(description: "no redis-server at \(binaryPath) (apt-get install redis-server, or set REDIS_SERVER)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaryPath)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", NSTemporaryDirectory(), "--logfile", logPath,
        ] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Polls PING until the server answers (true) or exits or `timeout` passes (false).
    private static func waitUntilReady(_ process: Process, port: Int, timeout: Double) async -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end, process.isRunning {
            if await answersPing(port: port) { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return false
    }

    private static func signalAndReap(_ process: Process, _ signal: Int32) {
        guard process.isRunning else { return }
        sendSignal(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// A port the kernel just handed out for 127.0.0.1 (bound, then closed again).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port
        try await channel.close()
        guard let port else { throw LaunchError(description: "bound socket has no port") }
        return port
    }

    /// Whether something on `port` answers an inline PING like Redis (`-NOAUTH` counts: it
    /// is up, only locked).
    static func answersPing(port: Int) async -> Bool {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let reply = eventLoop.makePromise(of: String.self)
        let timer = eventLoop.scheduleTask(in: .seconds(2)) { reply.fail(ChannelError.eof) }
        defer { timer.cancel() }
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(.seconds(1))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(FirstReply(reply)) }
                }
                .connect(host: "127.0.0.1", port: port).get()
            defer { channel.close(promise: nil) }
            try await channel.writeAndFlush(ByteBuffer(string: "PING\r\n"))
            let text = try await reply.futureResult.get()
            return text.hasPrefix("+PONG") || text.hasPrefix("-NOAUTH")
        } catch {
            reply.fail(error)
            return false
        }
    }
}

private func sendSignal(_ pid: pid_t, _ signal: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, signal)
    #elseif canImport(Darwin)
    _ = Darwin.kill(pid, signal)
    #endif
}

/// Completes a promise with the first bytes a connection receives.
private final class FirstReply: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<String>

    init(_ promise: EventLoopPromise<String>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        promise.succeed(String(buffer: unwrapInboundIn(data)))
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
