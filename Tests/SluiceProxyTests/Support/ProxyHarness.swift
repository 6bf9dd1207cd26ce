import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SluiceConfig
@testable import SluiceProxy

/// Keeps every log line a proxy writes, so that tests can assert on access-log entries.
final class LogCapture: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])
    private let watchers = NIOLockedValueBox<[(prefix: String, act: @Sendable () -> Void)]>([])
    var all: [String] { lines.withLockedValue { $0 } }

    func append(_ line: String) {
        lines.withLockedValue { $0.append(line) }
        for watcher in watchers.withLockedValue({ $0 }) where line.hasPrefix(watcher.prefix) { watcher.act() }
    }

    /// Runs `act` on the logging thread as each line starting with `prefix` is logged: a test
    /// reacts at once, not when a polling task on a loaded machine next wakes.
    func onLine(prefix: String, _ act: @escaping @Sendable () -> Void) {
        watchers.withLockedValue { $0.append((prefix, act)) }
    }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { _ in CaptureHandler(capture: self) }
        logger.logLevel = .info
        return logger
    }

    private struct CaptureHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let meta = (event.metadata ?? [:]).merging(metadata) { a, _ in a }
            let suffix = meta.isEmpty ? "" : " " + meta.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.append("\(event.message)\(suffix)")
        }
    }
}

/// A Sluice proxy running in this process on 127.0.0.1 with an OS-chosen port, in front of
/// the given backends: one cluster `main` with a route for everything unless the test's
/// `configure` says otherwise.
final class ProxyHarness: Sendable {
    let server: ProxyServer
    let port: Int
    let accessLog: LogCapture
    let errorLog: LogCapture

    static func start(
        backends: [String],
        eventLoops: Int = 1,
        clock: any WallClock = SystemWallClock(),
        configure: (inout SluiceConfig) -> Void = { _ in }
    ) async throws -> ProxyHarness {
        var config = SluiceConfig(
            listeners: [ListenerConfig(name: "test", address: "127.0.0.1", port: 0)],
            clusters: [ClusterConfig(name: "main", backends: backends.map(Self.backend))],
            routes: [RouteConfig(name: "all", cluster: "main")],
            eventLoops: eventLoops
        )
        config.admin.port = 0  // tests run side by side: never the fixed default
        configure(&config)
        let accessLog = LogCapture()
        let errorLog = LogCapture()
        let server = try ProxyServer(
            snapshot: Snapshot(config: config, source: "<test>"),
            logger: errorLog.logger("sluice"),
            accessLogger: accessLog.logger("sluice.access"),
            clock: clock
        )
        let bound = try await server.start()
        let harness = ProxyHarness(server: server, port: bound[0].port!, accessLog: accessLog, errorLog: errorLog)
        return harness
    }

    /// A proxy on the configuration in `path`, as `sluice run -c` loads it, so that a reload
    /// reads the same file.
    static func start(file path: String) async throws -> ProxyHarness {
        let accessLog = LogCapture()
        let errorLog = LogCapture()
        let server = try ProxyServer(
            snapshot: Snapshot(config: try ConfigLoader.load(path: path), source: path),
            logger: errorLog.logger("sluice"),
            accessLogger: accessLog.logger("sluice.access")
        )
        let bound = try await server.start()
        return ProxyHarness(server: server, port: bound[0].port!, accessLog: accessLog, errorLog: errorLog)
    }

    private init(server: ProxyServer, port: Int, accessLog: LogCapture, errorLog: LogCapture) {
        self.server = server
        self.port = port
        self.accessLog = accessLog
        self.errorLog = errorLog
    }

    static func backend(_ address: String) -> BackendConfig {
        let colon = address.lastIndex(of: ":")!
        return BackendConfig(host: String(address[..<colon]), port: Int(address[address.index(after: colon)...])!)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() async {
        await server.drain(timeout: .seconds(2))
        try? await server.shutdown()
    }
}

/// One TestBackend behind one in-process proxy for the length of `body`; both are stopped
/// afterwards, also when `body` throws.
func withProxy(
    configure: (inout SluiceConfig) -> Void = { _ in },
    _ body: (ProxyHarness, TestBackend) async throws -> Void
) async throws {
    let backend = try await TestBackend.start(group: testGroup)
    let proxy: ProxyHarness
    do {
        proxy = try await ProxyHarness.start(backends: [backend.address], configure: configure)
    } catch {
        await backend.stop()
        throw error
    }
    do {
        try await body(proxy, backend)
    } catch {
        await proxy.stop()
        await backend.stop()
        throw error
    }
    await proxy.stop()
    await backend.stop()
}
