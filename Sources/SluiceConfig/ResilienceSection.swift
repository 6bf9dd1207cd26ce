/// The parts of a cluster that keep it healthy: active checks, outlier detection, circuit
/// breaking and retries; and a route's hedging.
extension ConfigReader {
    func readHealthCheck(_ cluster: Fields) -> HealthCheckConfig? {
        guard let fields = section(cluster, "health_check", ConfigSchema.healthCheck) else { return nil }
        var check = HealthCheckConfig()
        check.kind = value(fields, "type", .enumeration("health check type")).or(check.kind)
        check.method = value(fields, "method", .method).or(check.method)
        check.path = value(fields, "path", .pathPrefix).or(check.path)
        check.host = value(fields, "host", .nonEmptyString).value
        check.expectStatus = value(fields, "expect_status", .statusRange).or(check.expectStatus)
        check.bodyContains = value(fields, "body_contains", .nonEmptyString).value
        check.interval = value(fields, "interval", .duration).or(check.interval)
        check.jitter = value(fields, "jitter", .durationOrZero).or(check.jitter)
        check.timeout = value(fields, "timeout", .duration).or(check.timeout)
        check.rise = value(fields, "rise", .integer(in: 1...100)).or(check.rise)
        check.fall = value(fields, "fall", .integer(in: 1...100)).or(check.fall)
        return check
    }

    func readOutlierDetection(_ cluster: Fields) -> OutlierConfig {
        var outlier = OutlierConfig()
        guard let fields = section(cluster, "outlier_detection", ConfigSchema.outlier) else { return outlier }
        outlier.consecutive5xx = value(fields, "consecutive_5xx", .integer(in: 0...10_000)).or(outlier.consecutive5xx)
        outlier.consecutiveGatewayFailures = value(fields, "consecutive_gateway_failures", .integer(in: 0...10_000))
            .or(outlier.consecutiveGatewayFailures)
        outlier.baseEjectionTime = value(fields, "base_ejection_time", .duration).or(outlier.baseEjectionTime)
        outlier.maxEjectionTime = value(fields, "max_ejection_time", .duration).or(outlier.maxEjectionTime)
        outlier.maxEjectionPercent = value(fields, "max_ejection_percent", .integer(in: 0...100)).or(outlier.maxEjectionPercent)
        if outlier.maxEjectionTime < outlier.baseEjectionTime {
            report("max_ejection_time must not be shorter than base_ejection_time", at: fields.path.key("max_ejection_time"),
                   line: fields.node("max_ejection_time")?.line ?? fields.line)
        }
        return outlier
    }

    func readCircuitBreaker(_ cluster: Fields) -> CircuitBreakerConfig {
        var breaker = CircuitBreakerConfig()
        guard let fields = section(cluster, "circuit_breaker", ConfigSchema.circuitBreaker) else { return breaker }
        breaker.maxInFlight = value(fields, "max_in_flight", .integer(in: 0...Int.max)).or(breaker.maxInFlight)
        breaker.maxPendingConnects = value(fields, "max_pending_connects", .integer(in: 0...Int.max)).or(breaker.maxPendingConnects)
        return breaker
    }

    func readRetries(_ cluster: Fields) -> RetryConfig {
        var retries = RetryConfig()
        guard let fields = section(cluster, "retries", ConfigSchema.retries) else { return retries }
        retries.maxRetries = value(fields, "max_retries", .integer(in: 0...10)).or(retries.maxRetries)
        retries.perTryTimeout = value(fields, "per_try_timeout", .durationOrZero).or(retries.perTryTimeout)
        if let entries = items(fields, "on_status") {
            let statuses = entries.compactMap { item, path in convert(item, at: path, as: .integer(in: 500...599)).value }
            if statuses.count == entries.count { retries.onStatus = statuses }
        }
        retries.budgetPercent = value(fields, "budget_percent", .number(in: 0...100)).or(retries.budgetPercent)
        retries.budgetMinPerSecond = value(fields, "budget_min_per_second", .integer(in: 0...1_000_000)).or(retries.budgetMinPerSecond)
        retries.replayBuffer = value(fields, "replay_buffer", .byteSize(atLeast: 0)).or(retries.replayBuffer)
        return retries
    }

    func readHedge(_ route: Fields) -> HedgeConfig? {
        guard let fields = section(route, "hedge", ConfigSchema.hedge) else { return nil }
        guard let delay = required(fields, "delay", .hedgeDelay).value else { return nil }
        return HedgeConfig(delay: delay)
    }
}

extension Conversion where T == Duration {
    /// For settings where 0 means "off".
    static var durationOrZero: Conversion<Duration> {
        let expected = "a duration such as 5s or 250ms, or 0"
        return Conversion(expected: expected) { text in
            text == "0" ? .success(.zero) : Units.duration(text).map { .success($0) } ?? rejected(expected, text)
        }
    }
}

extension Conversion where T == Double {
    static func number(in range: ClosedRange<Double>) -> Conversion<Double> {
        Conversion(expected: "a number") { text in
            guard let number = Double(text), number.isFinite else { return rejected("a number", text) }
            return range.contains(number)
                ? .success(number)
                : .failure(Substitution.Failure("must be between \(range.lowerBound) and \(range.upperBound), got \(text)"))
        }
    }
}

extension Conversion where T == ClosedRange<Int> {
    /// `200-399`, or one status such as `204`.
    static var statusRange: Conversion<ClosedRange<Int>> {
        let expected = "a status or range such as 200 or 200-399"
        return Conversion(expected: expected) { text in
            let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil,
                  (100...599).contains(low), (100...599).contains(high), low <= high
            else { return rejected(expected, text) }
            return .success(low...high)
        }
    }
}

extension Conversion where T == HashKeyPart {
    /// `client_ip`, `path`, `header:NAME`, `cookie:NAME`, `query:NAME`.
    static var hashKeyPart: Conversion<HashKeyPart> {
        let expected = "client_ip, path, header:NAME, cookie:NAME or query:NAME"
        return Conversion(expected: expected) { text in
            switch text {
            case "client_ip": return .success(.clientIP)
            case "path": return .success(.path)
            default: break
            }
            guard let colon = text.firstIndex(of: ":") else {
                return .failure(Substitution.Failure("unknown hash key part \"\(text)\"; expected \(expected)"))
            }
            let name = String(text[text.index(after: colon)...])
            guard !name.isEmpty, HTTPToken.isValid(name) else {
                return .failure(Substitution.Failure("hash key part \"\(text)\" needs a name after the colon"))
            }
            switch text[..<colon] {
            case "header": return .success(.header(name))
            case "cookie": return .success(.cookie(name))
            case "query": return .success(.query(name))
            default: return .failure(Substitution.Failure("unknown hash key part \"\(text)\"; expected \(expected)"))
            }
        }
    }
}

extension Conversion where T == HedgeDelay {
    static var hedgeDelay: Conversion<HedgeDelay> {
        let expected = "a duration such as 50ms, or p95"
        return Conversion(expected: expected) { text in
            if text == "p95" { return .success(.p95) }
            guard let delay = Units.duration(text), delay > .zero else { return rejected(expected, text) }
            return .success(.fixed(delay))
        }
    }
}
