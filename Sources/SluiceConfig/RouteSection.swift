/// The `routes` section: what each request is matched on, the cluster it goes to, and the
/// per-route overrides of request-level limits and upstream timeouts.
extension ConfigReader {
    /// `clusterNames` nil means the clusters section had errors: skip the reference check.
    func readRoutes(_ root: Fields, clusterNames: [String]?, policyNames: [String]) -> [RouteConfig] {
        guard let entries = items(root, "routes") else { return [] }
        var routes: [RouteConfig] = []
        var names = FirstSeen()
        let limitsOnlyGlobal = ConfigSchema.globalOnly("limits", all: ConfigSchema.limits, routeKeys: ConfigSchema.routeLimits)
        let timeoutsOnlyGlobal = ConfigSchema.globalOnly(
            "timeouts", all: ConfigSchema.timeouts, routeKeys: ConfigSchema.routeTimeouts)
        for (index, (item, path)) in entries.enumerated() {
            guard let fields = fields(item, at: path, allowed: ConfigSchema.route) else { continue }
            let name = value(fields, "name", .nonEmptyString).or("route-\(index)")
            names.check(name, kind: "route name", at: path, key: "name", fields, reader: self)
            let match = readMatch(fields)
            let cluster = required(fields, "cluster", .nonEmptyString)
            if let cluster = cluster.value, let clusterNames, !clusterNames.contains(cluster) {
                let defined = clusterNames.isEmpty ? "none" : clusterNames.joined(separator: ", ")
                report("cluster \"\(cluster)\" is not defined (defined: \(defined))", at: path.key("cluster"),
                       line: fields.node("cluster")?.line)
            }
            var limits = RouteLimits()
            if let section = section(fields, "limits", ConfigSchema.routeLimits, restricted: limitsOnlyGlobal) {
                limits.maxBodyBytes = value(section, "max_body_bytes", .byteSize(atLeast: 0)).value
            }
            var timeouts = RouteTimeouts()
            if let section = section(fields, "timeouts", ConfigSchema.routeTimeouts, restricted: timeoutsOnlyGlobal) {
                timeouts.upstreamConnect = value(section, "upstream_connect", .duration).value
                timeouts.upstreamHeader = value(section, "upstream_header", .duration).value
                timeouts.upstreamIdle = value(section, "upstream_idle", .duration).value
                timeouts.tunnelIdle = value(section, "tunnel_idle", .duration).value
                timeouts.stream = value(section, "stream", .durationOrZero).value
            }
            var route = RouteConfig(name: name, match: match, cluster: cluster.value ?? "", limits: limits,
                                    timeouts: timeouts, hedge: readHedge(fields))
            route.slo = readSLO(fields)
            route.cache = readRouteCache(fields)
            route.websocket = value(fields, "websocket", .boolean).or(route.websocket)
            for (item, itemPath) in items(fields, "rate_limits") ?? [] {
                guard let policy = convert(item, at: itemPath, as: .nonEmptyString).value else { continue }
                if route.rateLimits.contains(policy) {
                    report("rate limit \"\(policy)\" is listed twice", at: itemPath, line: item.line)
                } else if policyNames.contains(policy) {
                    route.rateLimits.append(policy)
                } else {
                    let defined = policyNames.isEmpty ? "none" : policyNames.joined(separator: ", ")
                    report("rate limit \"\(policy)\" is not defined (defined: \(defined))", at: itemPath, line: item.line)
                }
            }
            routes.append(route)
        }
        return routes
    }

    private func readSLO(_ route: Fields) -> RouteSLO {
        var slo = RouteSLO()
        guard let fields = section(route, "slo", ConfigSchema.slo) else { return slo }
        // A percentage strictly between 0 and 100: 100 leaves no error budget to spend.
        let percent = Conversion<Double>.number(in: 0...100).checked { value, text in
            value > 0 && value < 100 ? nil : "must be a percentage above 0 and below 100, got \(text)"
        }
        slo.availability = value(fields, "availability", percent).value
        if let latency = section(fields, "latency", ConfigSchema.sloLatency) {
            slo.latencyThreshold = required(latency, "threshold", .duration).value
            slo.latencyPercent = required(latency, "percent", percent).value
        }
        return slo
    }

    private func readMatch(_ route: Fields) -> RouteMatch {
        var match = RouteMatch()
        guard let fields = section(route, "match", ConfigSchema.match) else { return match }
        match.host = value(fields, "host", .routeHost).value
        match.pathPrefix = value(fields, "path_prefix", .pathPrefix).or(match.pathPrefix)
        match.method = value(fields, "method", .method).value
        return match
    }
}
