import SluiceBalancing

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
            var cluster = ClusterConfig(name: name.value ?? "")
            cluster.balancer = value(fields, "balancer", .enumeration("balancer")).or(.roundRobin)
            cluster.backends = readBackends(fields)
            cluster.hash = readHash(fields, backendCount: cluster.backends.count)
            cluster.pool = readPool(fields)
            cluster.healthCheck = readHealthCheck(fields)
            cluster.tls = readClusterTLS(fields)
            cluster.http2 = readClusterHTTP2(fields)
            cluster.outlierDetection = readOutlierDetection(fields)
            cluster.circuitBreaker = readCircuitBreaker(fields)
            cluster.retries = readRetries(fields)
            cluster.slowStart = value(fields, "slow_start", .durationOrZero).or(cluster.slowStart)
            cluster.panicThreshold = value(fields, "panic_threshold", .integer(in: 0...100)).or(cluster.panicThreshold)
            guard let name = name.value else {
                complete = false
                continue
            }
            names.check(name, kind: "cluster name", at: path, key: "name", fields, reader: self)
            clusters.append(cluster)
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
                let weight = value(fields, "weight", .integer(in: 1...1_000_000)).or(1)
                let drain = value(fields, "drain", .boolean).or(false)
                if let address = address.value {
                    backends.append(BackendConfig(host: address.host, port: address.port, weight: weight, drain: drain))
                }
            case .list, .null:
                report("expected a mapping or a \"host:port\" string", at: path, line: item.line)
            }
        }
        return backends
    }

    private func readHash(_ cluster: Fields, backendCount: Int) -> HashConfig {
        var hash = HashConfig()
        guard let fields = section(cluster, "hash", ConfigSchema.hash) else { return hash }
        if let node = fields.node("key") {
            let path = fields.path.key("key")
            // One part as a plain string, or a list of parts combined in order.
            let parts: [(ConfigNode, ConfigPath)] = if case .list(let items) = node.kind {
                items.enumerated().map { ($0.element, path.index($0.offset)) }
            } else {
                [(node, path)]
            }
            let key = parts.compactMap { convert($0.0, at: $0.1, as: .hashKeyPart).value }
            if parts.isEmpty {
                report("expected at least one key part", at: path, line: node.line)
            } else if key.count == parts.count {
                hash.key = key
            }
        }
        hash.virtualNodes = value(fields, "virtual_nodes", .integer(in: 1...10_000)).or(hash.virtualNodes)
        hash.maglevTableSize = value(fields, "maglev_table_size", .integer(in: 3...10_000_019).checked { size, _ in
            guard Maglev.isPrime(size) else { return "must be a prime number (e.g. 65537), got \(size)" }
            return size > backendCount ? nil : "must be larger than the number of backends (\(backendCount))"
        }).or(hash.maglevTableSize)
        hash.balanceFactor = value(fields, "balance_factor", .number(in: 0...100)).or(hash.balanceFactor)
        return hash
    }

    private func readPool(_ cluster: Fields) -> PoolConfig {
        var pool = PoolConfig()
        guard let fields = section(cluster, "pool", ConfigSchema.pool) else { return pool }
        pool.maxIdle = value(fields, "max_idle", .integer(in: 0...Int.max)).or(pool.maxIdle)
        pool.idleTimeout = value(fields, "idle_timeout", .duration).or(pool.idleTimeout)
        return pool
    }
}

