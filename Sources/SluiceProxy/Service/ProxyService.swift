import Logging
import ServiceLifecycle
import SluiceConfig

/// Sluice as a swift-service-lifecycle service: binds on start; on graceful shutdown
/// (SIGTERM/SIGINT through the ServiceGroup) stops accepting, drains in-flight requests for
/// up to `timeouts.drain`, then returns so that the process can exit 0.
public struct ProxyService: Service {
    public let server: ProxyServer
    private let logger: Logger

    public init(server: ProxyServer, logger: Logger = Logger(label: "sluice")) {
        self.server = server
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await server.start()
        } catch {
            // What was bound before the failure (listeners, checkers, the event loops) goes too.
            try? await server.shutdown()
            throw error
        }
        // Returns when graceful shutdown begins; throws if the task is cancelled instead.
        try? await gracefulShutdown()
        let timeout = server.snapshot.config.timeouts.drain
        logger.info("draining", metadata: ["timeout": "\(timeout)"])
        let clean = await server.drain(timeout: timeout)
        logger.info(clean ? "drained" : "drain timed out")
        try await server.shutdown()
    }
}
