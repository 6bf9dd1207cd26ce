import SluiceLimits

/// The sections of rate limiting and abuse defence: `rate_limits`, `jwt`, `regions`, `access`.
extension ConfigReader {
    func readRateLimits(_ root: Fields, jwt: JWTConfig, regions: RegionConfig) -> [RateLimitPolicy] {
        guard let entries = items(root, "rate_limits") else { return [] }
        var policies: [RateLimitPolicy] = []
        var names = FirstSeen()
        for (item, path) in entries {
            guard let fields = fields(item, at: path, allowed: ConfigSchema.rateLimit) else { continue }
            guard let name = required(fields, "name", .nonEmptyString).value else { continue }
            names.check(name, kind: "rate limit name", at: path, key: "name", fields, reader: self)
            var policy = RateLimitPolicy(name: name)
            policy.algorithm = value(fields, "algorithm", .enumeration("rate limit algorithm")).or(policy.algorithm)
            policy.tiers = readTiers(fields)
            checkTiers(policy, fields)
            if let node = fields.node("key") {
                // One part as a plain string, or a list of parts combined in order.
                let keyPath = fields.path.key("key")
                let parts: [(ConfigNode, ConfigPath)] = if case .list(let items) = node.kind {
                    items.enumerated().map { ($0.element, keyPath.index($0.offset)) }
                } else {
                    [(node, keyPath)]
                }
                let key = parts.compactMap { convert($0.0, at: $0.1, as: .limitKeyPart).value }
                if parts.isEmpty { report("expected at least one key part", at: keyPath, line: node.line) }
                if key.count == parts.count, !key.isEmpty { policy.key = key }
            }
            policy.ipv6Prefix = value(fields, "ipv6_prefix", .integer(in: 1...128)).or(policy.ipv6Prefix)
            policy.store = value(fields, "store", .limitStore).or(policy.store)
            policy.leaseSize = value(fields, "lease_size", .integer(in: 1...1_000_000)).or(policy.leaseSize)
            policy.storeTimeout = value(fields, "store_timeout", .duration).or(policy.storeTimeout)
            policy.onStoreError = value(fields, "on_store_error", .enumeration("store error action")).or(policy.onStoreError)
            policy.shadow = value(fields, "shadow", .boolean).or(policy.shadow)
            if let cidrs = items(fields, "allow_cidrs") {
                policy.allowCIDRs = cidrs.compactMap { item, path in convert(item, at: path, as: .cidr).value }
            }
            policy.status = value(fields, "status", .integer(in: 400...599)).or(policy.status)
            policy.body = value(fields, "body", .string).or(policy.body)
            policy.maxKeys = value(fields, "max_keys", .integer(in: 1...100_000_000)).or(policy.maxKeys)
            policy.responseHeaders = value(fields, "response_headers", .boolean).or(policy.responseHeaders)
            checkKeySources(policy, jwt: jwt, regions: regions, fields)
            policies.append(policy)
        }
        return policies
    }

    private func readTiers(_ policy: Fields) -> [LimitTier] {
        guard policy.node("tiers") != nil else {
            report("missing required key \"tiers\"", at: policy.path, line: policy.line)
            return []
        }
        guard let entries = items(policy, "tiers") else { return [] }
        if !(1...4).contains(entries.count) {
            report("expected 1 to 4 tiers, got \(entries.count)", at: policy.path.key("tiers"), line: policy.node("tiers")?.line)
        }
        var tiers: [LimitTier] = []
        for (item, path) in entries {
            guard let fields = fields(item, at: path, allowed: ConfigSchema.tier) else { continue }
            let limit = required(fields, "limit", .integer(in: 1...1_000_000_000))
            let window = required(fields, "window", .duration)
            let burst = value(fields, "burst", .integer(in: 1...1_000_000_000))
            guard let limit = limit.value, let window = window.value, !burst.isInvalid else { continue }
            tiers.append(LimitTier(limit: limit, window: window.nanoseconds, burst: burst.value))
        }
        return tiers
    }

    /// What only the algorithm can judge (a burst the sliding window would ignore, a burst
    /// × window too long to count in nanoseconds), named at the tier.
    private func checkTiers(_ policy: RateLimitPolicy, _ fields: Fields) {
        guard let entries = items(fields, "tiers"), entries.count == policy.tiers.count else { return }
        for (tier, (item, path)) in zip(policy.tiers, entries) {
            if policy.algorithm == .slidingWindow, tier.burst != nil {
                report("burst applies to token_bucket and gcra, not sliding_window", at: path.key("burst"), line: item.line)
            } else if let problem = LimitPolicy.problem(with: tier, algorithm: policy.algorithm) {
                report(problem, at: path, line: item.line)
            }
        }
    }

    func readJWT(_ root: Fields, baseDirectory: String) -> JWTConfig {
        var jwt = JWTConfig()
        guard let section = section(root, "jwt", ConfigSchema.jwt) else { return jwt }
        jwt.issuer = value(section, "issuer", .nonEmptyString).value
        jwt.audience = value(section, "audience", .nonEmptyString).value
        jwt.leeway = value(section, "leeway", .durationOrZero).or(jwt.leeway)
        jwt.timeout = value(section, "timeout", .duration).or(jwt.timeout)
        for (item, path) in items(section, "keys") ?? [] {
            guard let key = fields(item, at: path, allowed: ConfigSchema.jwtKey) else { continue }
            guard let algorithm = required(key, "algorithm", .jwtAlgorithm).value else { continue }
            var entry = JWTConfig.Key(algorithm: algorithm, kid: value(key, "kid", .nonEmptyString).value)
            if algorithm == "hs256" {
                // RFC 7518 §3.2: an HS256 key must be at least as long as the hash, 32 bytes.
                entry.secret = required(key, "secret", .nonEmptyString.checked { text, _ in
                    text.utf8.count >= 32 ? nil : "an hs256 secret must be at least 32 bytes (RFC 7518), got \(text.utf8.count)"
                }).value
                if key.node("public_key_file") != nil {
                    report("hs256 takes a secret, not a public_key_file", at: path.key("public_key_file"), line: key.line)
                }
            } else {
                entry.publicKeyFile = required(key, "public_key_file", .nonEmptyString).value
                if key.node("secret") != nil {
                    report("\(algorithm) takes a public_key_file, not a secret", at: path.key("secret"), line: key.line)
                }
                if let file = entry.publicKeyFile {
                    entry.publicKeyPEM = readReferenced(file, baseDirectory: baseDirectory, at: path.key("public_key_file"),
                                                        line: key.node("public_key_file")?.line)
                }
            }
            jwt.keys.append(entry)
        }
        return jwt
    }

    func readRegions(_ root: Fields, baseDirectory: String) -> RegionConfig {
        var regions = RegionConfig()
        guard let fields = section(root, "regions", ConfigSchema.regions) else { return regions }
        regions.header = value(fields, "header", .headerName).value
        regions.tableFile = value(fields, "table_file", .nonEmptyString).value
        if let file = regions.tableFile,
           let text = readReferenced(file, baseDirectory: baseDirectory, at: fields.path.key("table_file"),
                                     line: fields.node("table_file")?.line)
        {
            switch RegionTable.parse(text) {
            case .success(let table): regions.table = table
            case .failure(let failure):
                report("\(file) line \(failure.line): \(failure.message)", at: fields.path.key("table_file"),
                       line: fields.node("table_file")?.line)
            }
        }
        return regions
    }

    func readAccess(_ root: Fields) -> AccessConfig {
        var access = AccessConfig()
        guard let fields = section(root, "access", ConfigSchema.access) else { return access }
        access.allow = (items(fields, "allow") ?? []).compactMap { item, path in convert(item, at: path, as: .cidr).value }
        access.deny = (items(fields, "deny") ?? []).compactMap { item, path in convert(item, at: path, as: .cidr).value }
        return access
    }

    /// `jwt_claim:` needs keys to verify with and `region` a source, or every request would
    /// share one key.
    private func checkKeySources(_ policy: RateLimitPolicy, jwt: JWTConfig, regions: RegionConfig, _ fields: Fields) {
        let line = fields.node("key")?.line ?? fields.line
        if policy.key.contains(where: { if case .jwtClaim = $0 { true } else { false } }), jwt.keys.isEmpty {
            report("a jwt_claim key part needs keys under jwt.keys", at: fields.path.key("key"), line: line)
        }
        if policy.key.contains(.region), regions.header == nil, regions.tableFile == nil {
            report("the region key part needs regions.header or regions.table_file", at: fields.path.key("key"), line: line)
        }
    }

    /// A file the config names, relative to the config file's folder unless absolute.
    private func readReferenced(_ file: String, baseDirectory: String, at path: ConfigPath, line: Int?) -> String? {
        let full = file.hasPrefix("/") || baseDirectory.isEmpty ? file : baseDirectory + "/" + file
        switch ConfigLoader.readText(full) {
        case .success(let text): return text
        case .failure(let failure):
            report("cannot read \(full): \(failure.reason)", at: path, line: line)
            return nil
        }
    }
}

/// A `regions.table_file`: one `CIDR REGION` per line.
public enum RegionTable {
    public struct Failure: Error {
        public let line: Int
        public let message: String
    }

    /// Entries sorted longest prefix first, so the first match is the most specific.
    public static func parse(_ text: String) -> Result<[(CIDR, String)], Failure> {
        var table: [(CIDR, String)] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            guard words.count == 2 else { return .failure(Failure(line: index + 1, message: "expected \"CIDR REGION\"")) }
            guard let cidr = CIDR(String(words[0])) else {
                return .failure(Failure(line: index + 1, message: "invalid CIDR \"\(words[0])\""))
            }
            table.append((cidr, String(words[1])))
        }
        return .success(table.sorted { $0.0.prefixLength > $1.0.prefixLength })
    }
}

extension Conversion where T == LimitKeyPart {
    static var limitKeyPart: Conversion<LimitKeyPart> {
        let expected = "client_ip, route, method, region, header:NAME or jwt_claim:NAME"
        return Conversion(expected: expected) { text in
            switch text {
            case "client_ip": return .success(.clientIP)
            case "route": return .success(.route)
            case "method": return .success(.method)
            case "region": return .success(.region)
            default: break
            }
            let unknown = Substitution.Failure("unknown rate limit key part \"\(text)\"; expected \(expected)")
            guard let colon = text.firstIndex(of: ":") else { return .failure(unknown) }
            let name = String(text[text.index(after: colon)...])
            guard !name.isEmpty, HTTPToken.isValid(name) else {
                return .failure(Substitution.Failure("rate limit key part \"\(text)\" needs a name after the colon"))
            }
            switch text[..<colon] {
            case "header": return .success(.header(name))
            case "jwt_claim": return .success(.jwtClaim(name))
            default: return .failure(unknown)
            }
        }
    }
}

extension Conversion where T == LimitStore {
    static var limitStore: Conversion<LimitStore> {
        let expected = "local or redis://[user:password@]host:port/db"
        return Conversion(expected: expected) { text in
            if text == "local" { return .success(.local) }
            guard RedisURL.isValid(text) else { return rejected(expected, RedisURL.redacted(text)) }
            return .success(.redis(url: text))
        }
    }
}

extension Conversion where T == String {
    static var jwtAlgorithm: Conversion<String> {
        Conversion(expected: "hs256, rs256 or es256") { text in
            let lowered = text.lowercased()
            return ["hs256", "rs256", "es256"].contains(lowered) ? .success(lowered) : rejected("hs256, rs256 or es256", text)
        }
    }
}

/// The shape check for `store:`; the Redis client parses it again when it connects.
public enum RedisURL {
    /// `redis://user:secret@host:6379/0` → `redis://user:[redacted]@host:6379/0`; a user
    /// without a password (`redis://secret@host`) is redacted whole, as it may be one.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://"), let at = url.lastIndex(of: "@"), scheme.upperBound < at else { return url }
        let userInfo = url[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else {
            return String(url[..<scheme.upperBound]) + "[redacted]" + String(url[at...])
        }
        return String(url[..<url.index(after: colon)]) + "[redacted]" + String(url[at...])
    }

    static func isValid(_ text: String) -> Bool {
        guard text.hasPrefix("redis://") else { return false }
        var rest = Substring(text.dropFirst("redis://".count))
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        let pathSplit = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if pathSplit.count == 2, !pathSplit[1].isEmpty, Int(pathSplit[1]).map({ (0...15).contains($0) }) != true { return false }
        let hostPort = pathSplit[0]
        guard let colon = hostPort.lastIndex(of: ":") else { return !hostPort.isEmpty }
        let host = hostPort[..<colon], port = hostPort[hostPort.index(after: colon)...]
        return !host.isEmpty && Int(port).map { (1...65535).contains($0) } == true
    }
}
