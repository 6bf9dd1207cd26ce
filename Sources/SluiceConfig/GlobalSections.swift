/// The root document and its global sections: listeners, limits, timeouts, headers, access log.
extension ConfigReader {
    func readConfig(_ root: ConfigNode) -> SluiceConfig {
        // An empty document is a valid configuration: all defaults, no routes.
        if case .null = root.kind { return SluiceConfig() }
        guard let fields = fields(root, at: .root, allowed: ConfigSchema.root) else { return SluiceConfig() }
        var config = SluiceConfig()
        config.eventLoops = value(fields, "event_loops", .integer(in: 0...4096)).or(config.eventLoops)
        config.user = value(fields, "user", .nonEmptyString).value
        config.listeners = readListeners(fields)
        config.limits = readLimits(fields)
        config.timeouts = readTimeouts(fields)
        config.headers = readHeaders(fields)
        config.accessLog = readAccessLog(fields)
        let clusters = readClusters(fields)
        config.clusters = clusters.configs
        let base = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : ""
        config.jwt = readJWT(fields, baseDirectory: base)
        config.regions = readRegions(fields, baseDirectory: base)
        config.rateLimits = readRateLimits(fields, jwt: config.jwt, regions: config.regions)
        config.access = readAccess(fields)
        config.admin = readAdmin(fields)
        config.log = readLog(fields)
        config.reload = readReload(fields)
        config.cache = readCache(fields)
        config.routes = readRoutes(fields, clusterNames: clusters.complete ? clusters.configs.map(\.name) : nil,
                                   policyNames: config.rateLimits.map(\.name).reduce(into: []) { if !$0.contains($1) { $0.append($1) } })
        return config
    }

    /// The section's fields, or nil when absent (defaults apply) or not a mapping (reported).
    func section(_ parent: Fields, _ key: String, _ allowed: [String],
                 restricted: [String: String] = [:]) -> Fields?
    {
        guard let node = parent.node(key) else { return nil }
        return fields(node, at: parent.path.key(key), allowed: allowed, restricted: restricted)
    }

    /// The section's list items with their paths; nil when absent or not a list.
    func items(_ parent: Fields, _ key: String) -> [(node: ConfigNode, path: ConfigPath)]? {
        guard let node = parent.node(key) else { return nil }
        let path = parent.path.key(key)
        guard let items = list(node, at: path) else { return nil }
        return items.enumerated().map { ($0.element, path.index($0.offset)) }
    }

    private func readListeners(_ root: Fields) -> [ListenerConfig] {
        guard let node = root.node("listeners") else { return [ListenerConfig()] }
        guard let entries = items(root, "listeners") else { return [ListenerConfig()] }
        if entries.isEmpty {
            report("expected at least one listener", at: root.path.key("listeners"), line: node.line)
        }
        var listeners: [ListenerConfig] = []
        var names = FirstSeen(), endpoints = FirstSeen()
        for (index, (item, path)) in entries.enumerated() {
            guard let fields = fields(item, at: path, allowed: ConfigSchema.listener) else { continue }
            let defaults = ListenerConfig()
            let name = value(fields, "name", .nonEmptyString).or("listener-\(index)")
            let address = value(fields, "address", .listenAddress)
            let port = value(fields, "port", .integer(in: 0...65535))
            var listener = ListenerConfig(name: name, address: address.or(defaults.address), port: port.or(defaults.port))
            listener.tls = readListenerTLS(fields)
            listener.httpsRedirect = readHTTPSRedirect(fields)
            listener.forwardProxy = readForwardProxy(fields)
            listener.http2 = readHTTP2(fields)
            if listener.http2.enabled, listener.forwardProxy != nil {
                report("a forward proxy listener speaks HTTP/1.1 only", at: path.key("http2"), line: fields.node("http2")?.line ?? fields.line)
            }
            if listener.forwardProxy != nil, listener.httpsRedirect != nil {
                report("a forward proxy listener cannot also redirect to HTTPS",
                       at: path.key("https_redirect"), line: fields.node("https_redirect")?.line ?? fields.line)
            }
            if listener.tls != nil, listener.httpsRedirect != nil {
                report("a listener with tls cannot also redirect to HTTPS: put https_redirect on a plain listener",
                       at: path.key("https_redirect"), line: fields.node("https_redirect")?.line ?? fields.line)
            }
            names.check(name, kind: "listener name", at: path, key: "name", fields, reader: self)
            // Port 0 asks the OS for a free port, so any number of such listeners can coexist.
            if listener.port != 0, !address.isInvalid, !port.isInvalid {
                let endpoint = BackendConfig(host: listener.address, port: listener.port).address
                endpoints.check(endpoint, kind: "listener address", quoted: false, at: path, key: "port", fields, reader: self)
            }
            listeners.append(listener)
        }
        return listeners
    }

    private func readLimits(_ root: Fields) -> Limits {
        var limits = Limits()
        guard let fields = section(root, "limits", ConfigSchema.limits) else { return limits }
        limits.maxConnections = value(fields, "max_connections", .integer(in: 1...Int.max)).or(limits.maxConnections)
        limits.maxHeaderBytes = value(fields, "max_header_bytes", .byteSize(atLeast: 1024)).or(limits.maxHeaderBytes)
        limits.maxHeaderCount = value(fields, "max_header_count", .integer(in: 1...Int.max)).or(limits.maxHeaderCount)
        limits.maxURIBytes = value(fields, "max_uri_bytes", .byteSize(atLeast: 16)).or(limits.maxURIBytes)
        limits.maxBodyBytes = value(fields, "max_body_bytes", .byteSize(atLeast: 0)).or(limits.maxBodyBytes)
        limits.maxConnectionsPerIP = value(fields, "max_connections_per_ip", .integer(in: 0...Int.max)).or(limits.maxConnectionsPerIP)
        limits.acceptRatePerIP = value(fields, "accept_rate_per_ip", .integer(in: 0...1_000_000)).or(limits.acceptRatePerIP)
        limits.maxRequestsPerConnection = value(fields, "max_requests_per_connection", .integer(in: 0...Int.max))
            .or(limits.maxRequestsPerConnection)
        return limits
    }

    private func readTimeouts(_ root: Fields) -> Timeouts {
        var timeouts = Timeouts()
        guard let fields = section(root, "timeouts", ConfigSchema.timeouts) else { return timeouts }
        timeouts.clientHeader = value(fields, "client_header", .duration).or(timeouts.clientHeader)
        timeouts.clientIdle = value(fields, "client_idle", .duration).or(timeouts.clientIdle)
        timeouts.clientPark = value(fields, "client_park", .durationOrZero).or(timeouts.clientPark)
        timeouts.clientBody = value(fields, "client_body", .duration).or(timeouts.clientBody)
        timeouts.clientSend = value(fields, "client_send", .duration).or(timeouts.clientSend)
        timeouts.upstreamConnect = value(fields, "upstream_connect", .duration).or(timeouts.upstreamConnect)
        timeouts.upstreamHeader = value(fields, "upstream_header", .duration).or(timeouts.upstreamHeader)
        timeouts.upstreamIdle = value(fields, "upstream_idle", .duration).or(timeouts.upstreamIdle)
        timeouts.drain = value(fields, "drain", .duration).or(timeouts.drain)
        timeouts.tunnelIdle = value(fields, "tunnel_idle", .duration).or(timeouts.tunnelIdle)
        timeouts.stream = value(fields, "stream", .durationOrZero).or(timeouts.stream)
        return timeouts
    }

    private func readHeaders(_ root: Fields) -> HeaderPolicy {
        var headers = HeaderPolicy()
        guard let fields = section(root, "headers", ConfigSchema.headers) else { return headers }
        if let entries = items(fields, "trusted_proxies") {
            headers.trustedProxies = entries.compactMap { item, path in convert(item, at: path, as: .cidr).value }
        }
        headers.requestID = value(fields, "request_id", .headerName).or(headers.requestID)
        // Empty disables the Via header; anything else must be a token (RFC 9110 pseudonym).
        headers.via = value(fields, "via", .string.checked { text, _ in
            text.isEmpty || HTTPToken.isValid(text) ? nil : "invalid Via pseudonym \"\(text)\"; expected a token such as sluice, or \"\" to disable"
        }).or(headers.via)
        return headers
    }

    private func readLog(_ root: Fields) -> LogConfig {
        var log = LogConfig()
        guard let fields = section(root, "log", ConfigSchema.log) else { return log }
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        log.level = value(fields, "level", .string.checked { text, _ in
            levels.contains(text) ? nil : "unknown log level \"\(text)\"; expected one of \(levels.joined(separator: ", "))"
        }).or(log.level)
        log.format = value(fields, "format", .enumeration("log format")).or(log.format)
        return log
    }

    private func readAdmin(_ root: Fields) -> AdminConfig {
        var admin = AdminConfig()
        guard let fields = section(root, "admin", ConfigSchema.admin) else { return admin }
        admin.enabled = value(fields, "enabled", .boolean).or(admin.enabled)
        admin.address = value(fields, "address", .listenAddress).or(admin.address)
        admin.port = value(fields, "port", .integer(in: 0...65535)).or(admin.port)
        // Empty means none, so that `${SLUICE_ADMIN_TOKEN:-}` works without the variable.
        admin.token = value(fields, "token", .string).value.flatMap { $0.isEmpty ? nil : $0 }
        return admin
    }

    private func readReload(_ root: Fields) -> ReloadConfig {
        var reload = ReloadConfig()
        guard let fields = section(root, "reload", ConfigSchema.reload) else { return reload }
        reload.watch = value(fields, "watch", .boolean).or(reload.watch)
        reload.watchInterval = value(fields, "watch_interval", .duration.checked { interval, _ in
            interval >= .milliseconds(10) ? nil : "watch_interval must be at least 10ms"
        }).or(reload.watchInterval)
        reload.drainTimeout = value(fields, "drain_timeout", .duration).or(reload.drainTimeout)
        return reload
    }

    private func readAccessLog(_ root: Fields) -> AccessLogConfig {
        var log = AccessLogConfig()
        guard let fields = section(root, "access_log", ConfigSchema.accessLog) else { return log }
        log.enabled = value(fields, "enabled", .boolean).or(log.enabled)
        log.format = value(fields, "format", .enumeration("format")).or(log.format)
        return log
    }
}

/// Remembers where each name was first seen, to report duplicates against it.
struct FirstSeen {
    private var positions: [String: ConfigPath] = [:]

    mutating func check(_ name: String, kind: String, quoted: Bool = true, at path: ConfigPath, key: String,
                        _ fields: ConfigReader.Fields, reader: ConfigReader)
    {
        if let first = positions[name] {
            let shown = quoted ? "\"\(name)\"" : name
            reader.report("duplicate \(kind) \(shown) (first at \(first))", at: path.key(key),
                          line: fields.node(key)?.line ?? fields.line)
        } else {
            positions[name] = path
        }
    }
}

extension Lookup {
    var isInvalid: Bool {
        if case .invalid = self { return true }
        return false
    }
}
