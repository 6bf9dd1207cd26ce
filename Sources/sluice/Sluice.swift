#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Dispatch
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SluiceConfig
import SluiceProxy
import UnixSignals

/// A synchronous entry point that waits for the command on a semaphore. An async `@main`
/// parks the main thread inside `pthread_exit` (libdispatch's dispatch_main), where glibc's
/// setuid no longer reaches it, so `user` would leave that one thread root. Waiting here keeps
/// the main thread an ordinary one that the privilege drop switches with the others.
@main
enum Entry {
    static func main() {
        let finished = DispatchSemaphore(value: 0)
        // Detached: main is on the main actor, whose queue nothing drains while main waits.
        Task.detached {
            await Sluice.main()
            finished.signal()
        }
        finished.wait()
    }
}

struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "An HTTP edge proxy: routing, load balancing and keep-alive pools on SwiftNIO.",
        discussion: "With no subcommand, runs the demo (embedded config and demo backends on loopback).",
        version: "0.1.0",
        subcommands: [Run.self, Check.self, Demo.self],
        defaultSubcommand: Demo.self
    )
}

struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Log level for Sluice's own log lines (trace, debug, info, notice, warning, error); overrides log.level.")
    var logLevel: Logger.Level?

    /// `log` from the configuration, with `--log-level` winning over `log.level`.
    func bootstrap(_ config: LogConfig = LogConfig()) {
        // The level is live: a reload may change log.level, unless --log-level pinned it.
        LiveLogLevel.set(logLevel ?? Logger.Level(rawValue: config.level) ?? .info, pin: logLevel != nil)
        let json = config.format == .json
        LoggingSystem.bootstrap { label in
            // Access-log lines go to stdout as they are; everything else to stderr.
            if label == "sluice.access" { return AccessLineHandler() }
            if json { return LiveLevelLogHandler(JSONLogHandler(label: label, level: .trace) { writeAll($0, to: STDERR_FILENO) }) }
            return LiveLevelLogHandler(StreamLogHandler.standardError(label: label))
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the proxy with a configuration file.")

    @Option(name: [.short, .long], help: "Configuration file (YAML or JSON). Default: $SLUICE_CONFIG, else /etc/sluice/sluice.yaml")
    var config: String?

    /// Where the Filesystem Hierarchy Standard puts a system-wide configuration.
    static let defaultPath = "/etc/sluice/sluice.yaml"

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let environment = getenv("SLUICE_CONFIG").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        let path = config ?? environment ?? Self.defaultPath
        let snapshot: Snapshot
        do {
            snapshot = Snapshot(config: try ConfigLoader.load(path: path), source: path)
            try await ProxyServer.validate(snapshot.config)
        } catch let error as ConfigError {
            if config == nil, environment == nil {
                printError("no configuration: \(path) could not be read. Pass -c FILE, set SLUICE_CONFIG, or try `sluice demo`.\n\(error)")
            } else {
                printError("\(error)")
            }
            throw ExitCode(1)
        } catch {
            printError("\(path): \(error)")
            throw ExitCode(1)
        }
        logging.bootstrap(snapshot.config.log)
        try await serve(snapshot)
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a configuration file without starting (exit 0 valid, 1 invalid).")

    @Option(name: [.short, .long], help: "Configuration file (YAML or JSON).")
    var config: String

    func run() async throws {
        let loaded: SluiceConfig
        do {
            loaded = try ConfigLoader.load(path: config)
            try await ProxyServer.validate(loaded)
        } catch let error as ConfigError {
            printError("\(error)")
            throw ExitCode(1)
        } catch {
            printError("\(config): \(error)")
            throw ExitCode(1)
        }
        print("\(config): ok (\(loaded.listeners.count) listeners, \(loaded.clusters.count) clusters, \(loaded.routes.count) routes)")
    }
}

/// Runs one proxy until SIGTERM or SIGINT, then drains and returns (exit 0).
func serve(_ snapshot: Snapshot) async throws {
    let logger = Logger(label: "sluice")
    let server = try ProxyServer(snapshot: snapshot, logger: logger)
    // Libraries that report through swift-metrics land in the same /metrics.
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: server.metricsRegistry))
    let group = ServiceGroup(
        services: [ProxyService(server: server, logger: logger), await ReloadService(server: server)],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
    try await group.run()
}

func printError(_ text: String) {
    var stderr = StandardError()
    print(text, to: &stderr)
}
