#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A private `redis-server` for one test: 127.0.0.1 only, on a port that was free a moment
/// before (another is tried if the server cannot bind it), no persistence. `start` returns
/// once the server answers, and only if it is this process that answers: two tests can be
/// handed the same free port, and then the server that loses the bind must not take the
/// other's for its own (`INFO`'s `process_id` is checked). `kill` and `restart` (same port,
/// same arguments) let a test take the server away and bring it back; `pause` and `resume`
/// freeze it (SIGSTOP/SIGCONT).
///
/// The binary is `REDIS_SERVER` or the first `redis-server` on PATH; its log goes to a
/// temporary file (`log`) for failure messages.
public final class RedisServerProcess: @unchecked Sendable {
    public struct LaunchError: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public let port: Int
    public let arguments: [String]
    let logPath: String
    // `process` is replaced only by `restart`, under `lock`.
    private let lock = NSLock()
    private var process: Subprocess

    public var url: String { "redis://127.0.0.1:\(port)" }
    public var pid: Int32 { lock.withLock { process.pid } }
    public var isRunning: Bool { lock.withLock { process.isRunning } }
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    private init(port: Int, arguments: [String], logPath: String, process: Subprocess) {
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
    public static func start(_ arguments: [String] = [], startupTimeout: Double = 20) async throws -> RedisServerProcess {
        let logPath = NSTemporaryDirectory() + "sluice-redis-\(UInt64.random(in: 0...UInt64.max)).log"
        var failures: [String] = []
        for _ in 0..<5 {
            try ServerRegistry.current?.checkOpen()
            let port = try await freePort()
            let process = try launch(port: port, arguments: arguments, logPath: logPath)
            if await waitUntilReady(process, port: port, password: password(in: arguments), timeout: startupTimeout) {
                let server = RedisServerProcess(port: port, arguments: arguments, logPath: logPath, process: process)
                ServerRegistry.current?.add(server)
                return server
            }
            failures.append("port \(port): running \(process.isRunning)")
            signalAndReap(process, SIGKILL)
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw LaunchError(description: "redis-server did not start (\(failures.joined(separator: "; ")))\nlog: \(log)")
    }

    /// SIGKILL and reap; safe to call more than once.
    public func kill() {
        lock.withLock { Self.signalAndReap(process, SIGKILL) }
    }

    /// A new server on the same port with the same arguments (the old one is killed first).
    /// A few tries, should something hold the port for a moment.
    public func restart(startupTimeout: Double = 20) async throws {
        kill()
        for _ in 0..<5 {
            try ServerRegistry.current?.checkOpen()
            let process = try Self.launch(port: port, arguments: arguments, logPath: logPath)
            lock.withLock { self.process = process }
            if await Self.waitUntilReady(process, port: port, password: Self.password(in: arguments), timeout: startupTimeout) { return }
            kill()
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        throw LaunchError(description: "redis-server did not restart on port \(port)\nlog: \(log)")
    }

    public func pause() { lock.withLock { sendSignal(process.pid, SIGSTOP) } }
    public func resume() { lock.withLock { sendSignal(process.pid, SIGCONT) } }

    public static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["REDIS_SERVER"], !path.isEmpty { return path }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in directories + ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"] {
            let candidate = directory + "/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/redis-server"
    }

    private static func launch(port: Int, arguments: [String], logPath: String) throws -> Subprocess {
        guard FileManager.default.isExecutableFile(atPath: binaryPath) else {
            throw LaunchError(description: "no redis-server at \(binaryPath) (apt-get install redis-server, or set REDIS_SERVER)")
        }
        return try Subprocess.launch(binaryPath, [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", NSTemporaryDirectory(), "--logfile", logPath,
        ] + arguments, stdout: .null, stderr: .null)
    }

    /// Polls until `process` itself answers on `port` (true), or it exits or `timeout` passes
    /// (false). Another server answering there means `process` lost the bind and is exiting.
    private static func waitUntilReady(_ process: Subprocess, port: Int, password: String?, timeout: Double) async -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end, process.isRunning {
            if await serverPID(port: port, password: password) == process.pid { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return false
    }

    private static func password(in arguments: [String]) -> String? {
        arguments.firstIndex(of: "--requirepass").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    }

    private static func signalAndReap(_ process: Subprocess, _ signal: Int32) {
        guard process.isRunning else { return }
        sendSignal(process.pid, signal)
        process.waitUntilExit()
    }

    /// A port the kernel just handed out for 127.0.0.1 (bound, then closed again).
    /// A port free right now and never handed out before in this process: a test whose server
    /// was killed may still have clients reconnecting to its old port, and they must not find
    /// another test's server there.
    public static func freePort() async throws -> Int {
        for _ in 0..<100 {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            let port = channel.localAddress?.port
            try await channel.close()
            guard let port else { throw LaunchError(description: "bound socket has no port") }
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw LaunchError(description: "no fresh free port in 100 tries")
    }

    private static let handedOut = Mutex<Set<Int>>([])

    /// The pid of the redis-server on `port` (from `INFO server`, after an inline `AUTH` when
    /// `password` is set), or nil if nothing there answers like one within 2 s.
    public static func serverPID(port: Int, password: String?) async -> Int32? {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let reply = eventLoop.makePromise(of: Int32.self)
        let timer = eventLoop.scheduleTask(in: .seconds(2)) { reply.fail(ChannelError.eof) }
        defer { timer.cancel() }
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(.seconds(1))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ProcessIDReply(reply)) }
                }
                .connect(host: "127.0.0.1", port: port).get()
            let auth = password.map { "AUTH \($0)\r\n" } ?? ""
            channel.writeAndFlush(ByteBuffer(string: auth + "INFO server\r\n"), promise: nil)
            let pid = try? await reply.futureResult.get()
            try? await channel.close()
            return pid
        } catch {
            reply.fail(error)
            return nil
        }
    }
}

/// The servers a test started (see `withTestDeadline`), so that a test given up as hung
/// leaves none running, and starts none afterwards.
public final class ServerRegistry: @unchecked Sendable {
    @TaskLocal public static var current: ServerRegistry?

    private struct Weak { weak var server: RedisServerProcess? }
    private let lock = NSLock()
    private var servers: [Weak] = []
    private var closed = false

    public init() {}

    public func add(_ server: RedisServerProcess) {
        let open = lock.withLock {
            if !closed { servers.append(Weak(server: server)) }
            return !closed
        }
        if !open { server.kill() }
    }

    public func checkOpen() throws {
        if lock.withLock({ closed }) { throw RedisServerProcess.LaunchError(description: "the test was given up as hung") }
    }

    public func killAll() {
        let all = lock.withLock {
            closed = true
            return servers.compactMap(\.server)
        }
        for server in all { server.kill() }
    }
}

private func sendSignal(_ pid: pid_t, _ signal: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, signal)
    #elseif canImport(Darwin)
    _ = Darwin.kill(pid, signal)
    #endif
}

/// Completes a promise with the `process_id` of an `INFO` reply (an error reply fails it).
private final class ProcessIDReply: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Int32>
    private var text = ""

    init(_ promise: EventLoopPromise<Int32>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        text += String(buffer: unwrapInboundIn(data))
        if text.hasPrefix("-") || text.contains("\r\n-") {
            promise.fail(ChannelError.eof)
        } else if let field = text.firstRange(of: "process_id:") {
            // Complete once something follows the digits (the line's end).
            let rest = text[field.upperBound...]
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            if digits.endIndex < rest.endIndex {
                if let pid = Int32(digits) { promise.succeed(pid) } else { promise.fail(ChannelError.eof) }
            }
        }
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
