/// The whole configuration as the data path sees it: immutable, with everything derived from
/// it (router, cluster index) built once. A reload builds a new Snapshot and swaps the
/// reference atomically, so a request always reads one consistent generation (DESIGN.md).
public final class Snapshot: Sendable {
    public let config: SluiceConfig
    /// Where the configuration came from (file path), for logs and `sluice check`.
    public let source: String
    public let router: Router
    /// Clusters by name; names are unique once the loader has validated them.
    public let clusters: [String: ClusterConfig]
    /// Increases by one on every successful reload.
    public let generation: Int

    public init(config: SluiceConfig, source: String, generation: Int = 1) {
        self.config = config
        self.source = source
        self.generation = generation
        self.router = Router(config: config)
        // Keep the first on a duplicate rather than trap: a config built in code skips the loader.
        self.clusters = Dictionary(config.clusters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
