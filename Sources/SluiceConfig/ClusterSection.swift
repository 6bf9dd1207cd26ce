/// The `clusters` section: named groups of backends with a balancer and a connection pool.
extension ConfigReader {
    /// `complete` is false when some cluster's name could not be read; routes then skip the
    /// "cluster is not defined" check rather than blame a route for an earlier mistake.
    func readClusters(_ root: Fields) -> (configs: [ClusterConfig], complete: Bool) {
        guard root.node("clusters") != nil else { return ([], true) }
        guard let entries = items(root, "clusters") else { return ([], false) }
        var clusters: [ClusterConfig] = []
        var complete = true
        var names = FirstSeen()
        for (item, path) in entries {
            guard let fields = fields(item, at: path, allowed: ConfigSchema.cluster) else {
                complete = false
                continue
            }
            let name = required(fields, "name", .nonEmptyString)
            let balancer: BalancerKind = value(fields, "balancer", .enumeration("balancer")).or(.roundRobin)
            let backends = readBackends(fields)
            let pool = readPool(fields)
            guard let name = name.value else {
                complete = false
                continue
            }
            names.check(name, kind: "cluster name", at: path, key: "name", fields, reader: self)
            clusters.append(ClusterConfig(name: name, balancer: balancer, backends: backends, pool: pool))
        }
        return (clusters, complete)
    }

    /// Each backend is a mapping, or a `"host:port"` string as shorthand for weight 1.
    private func readBackends(_ cluster: Fields) -> [BackendConfig] {
        guard let entries = items(cluster, "backends") else { return [] }
        var backends: [BackendConfig] = []
        for (item, path) in entries {
            switch item.kind {
            case .scalar:
                if let address = convert(item, at: path, as: .backendAddress).value {
                    backends.append(BackendConfig(host: address.host, port: address.port))
                }
            case .mapping:
                guard let fields = fields(item, at: path, allowed: ConfigSchema.backend) else { continue }
                let address = required(fields, "address", .backendAddress)
                let weight = value(fields, "weight", .integer(in: 1...Int.max)).or(1)
                if let address = address.value {
                    backends.append(BackendConfig(host: address.host, port: address.port, weight: weight))
                }
            case .list, .null:
                report("expected a mapping or a \"host:port\" string", at: path, line: item.line)
            }
        }
        return backends
    }

    private func readPool(_ cluster: Fields) -> PoolConfig {
        var pool = PoolConfig()
        guard let fields = section(cluster, "pool", ConfigSchema.pool) else { return pool }
        pool.maxIdle = value(fields, "max_idle", .integer(in: 0...Int.max)).or(pool.maxIdle)
        pool.idleTimeout = value(fields, "idle_timeout", .duration).or(pool.idleTimeout)
        return pool
    }
}
