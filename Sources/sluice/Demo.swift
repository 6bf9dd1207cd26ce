import ArgumentParser
import NIOCore
import NIOPosix
import SluiceConfig
import SluiceProxy

/// `sluice demo`: the embedded configuration below, in front of three demo backends on
/// loopback, so that a new user sees balancing with one command.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run Sluice on an embedded config with three demo backends on 127.0.0.1.")

    @Option(name: .shortAndLong, help: "Port for the proxy (0 picks a free one).")
    var port: Int = 8080

    @OptionGroup var logging: LoggingOptions

    static let embeddedConfig = """
        # The demo's embedded configuration: same schema as any sluice.yaml.
        event_loops: 1
        listeners:
          - name: demo
            address: 127.0.0.1
            port: ${DEMO_PORT}
        clusters:
          - name: demo
            balancer: round_robin
            backends:
              - address: ${DEMO_BACKEND_1}
              - address: ${DEMO_BACKEND_2}
              - address: ${DEMO_BACKEND_3}
        routes:
          - name: limited
            match:
              path_prefix: /limited
            cluster: demo
            rate_limits: [demo]
          - name: everything
            match:
              path_prefix: /
            cluster: demo
        rate_limits:
          - name: demo
            tiers:
              - limit: 5
                window: 10s
            key: [client_ip]
        access_log:
          format: plain
        """

    func run() async throws {
        logging.bootstrap()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var backends: [any Channel] = []
        for index in 1...3 {
            backends.append(try await DemoBackend.start(name: "backend-\(index)", group: group))
        }
        var environment = ["DEMO_PORT": String(port)]
        for (index, channel) in backends.enumerated() {
            environment["DEMO_BACKEND_\(index + 1)"] = "127.0.0.1:\(channel.localAddress?.port ?? 0)"
        }
        let config = try ConfigLoader.parse(Self.embeddedConfig, source: "<demo>", format: .yaml, environment: environment)
        let snapshot = Snapshot(config: config, source: "<demo>")
        printHelp(port: port)
        try await serve(snapshot)
        for channel in backends { try? await channel.close() }
        try await group.shutdownGracefully()
    }

    private func printHelp(port: Int) {
        let base = "http://127.0.0.1:\(port)"
        // Straight to the descriptor: stdout is block-buffered when piped, and the demo runs on.
        writeAll("""
            Sluice demo: proxy on \(base), round-robin over three demo backends on 127.0.0.1.
            (No config file given: this is the embedded demo config. Use `sluice run -c FILE` for yours,
             `sluice check -c FILE` to validate one; sluice.example.yaml documents every key.)

            Try:
              for i in 1 2 3 4 5 6; do curl -s \(base)/hello; done      # spread over backend-1..3
              curl -si \(base)/headers                                  # what the backend received
              curl -s -X POST --data-binary 'echo me' \(base)/echo      # bodies stream through
              curl -si -H 'Content-Length: 1' -H 'Transfer-Encoding: chunked' \(base)/  # refused: 400
              for i in $(seq 7); do curl -s -o /dev/null -w '%{http_code} ' \(base)/limited; done; echo  # 5 per 10 s: 200 x5, then 429
              curl -si \(base)/limited                                 # Retry-After, RateLimit-Policy, RateLimit
              curl -s http://127.0.0.1:9901/metrics | grep sluice_requests_total   # the admin listener

            Ctrl-C drains in-flight requests and exits.

            """, to: STDOUT_FILENO)
    }
}
