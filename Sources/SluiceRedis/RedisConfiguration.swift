import NIOCore

/// Where the Redis server is and how Sluice talks to it. Every duration has its default here.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// `AUTH username password` (Redis 6 ACL) when set together with `password`.
    public var username: String?
    /// `AUTH password` on every new connection when set.
    public var password: String?
    /// `SELECT database` on every new connection when not 0.
    public var database: Int
    /// How long a command may wait for its reply, including any wait for a connection. Default 50 ms.
    public var commandTimeout: TimeAmount
    /// TCP connect plus `AUTH` and `SELECT`. Default 500 ms.
    public var connectTimeout: TimeAmount
    /// Connections per client, opened on first use. Default 2.
    public var poolSize: Int
    public var backoff: RedisBackoff

    public init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
        database: Int = 0, commandTimeout: TimeAmount = .milliseconds(50), connectTimeout: TimeAmount = .milliseconds(500),
        poolSize: Int = 2, backoff: RedisBackoff = RedisBackoff()
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.commandTimeout = commandTimeout
        self.connectTimeout = connectTimeout
        self.poolSize = max(1, poolSize)
        self.backoff = backoff
    }

    /// `redis://[[user]:password@]host[:port][/db]`; user and password may be percent-encoded,
    /// an IPv6 host goes in brackets. The port defaults to 6379 and the database to 0.
    public init(url: String) throws {
        self.init()
        let schemeEnd = url.firstRange(of: "://")
        guard let schemeEnd else { throw RedisError.invalidURL("\"\(url)\" has no scheme (expected redis://host:port/db)") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "redis" else {
            throw RedisError.invalidURL("scheme \"\(scheme)\" is not supported (only redis://\(scheme == "rediss" ? "; TLS is not supported" : ""))")
        }
        var rest = url[schemeEnd.upperBound...]
        if rest.contains(where: { $0 == "?" || $0 == "#" }) {
            throw RedisError.invalidURL("query and fragment are not supported in \"\(url)\"")
        }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = userInfo.firstIndex(of: ":") else {
                throw RedisError.invalidURL("user \"\(userInfo)\" without a password (use redis://user:password@host or redis://:password@host)")
            }
            let user = try Self.percentDecoded(userInfo[..<colon])
            username = user.isEmpty ? nil : user
            password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
            guard password?.isEmpty == false else { throw RedisError.invalidURL("empty password") }
        }
        let slash = rest.firstIndex(of: "/")
        let authority = slash.map { rest[..<$0] } ?? rest
        if let slash {
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else { throw RedisError.invalidURL("database \"\(path)\" is not a number 0 or greater") }
                database = db
            }
        }
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw RedisError.invalidURL("unclosed [ in host \"\(authority)\"") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw RedisError.invalidURL("unexpected \"\(after)\" after host") }
                portPart = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw RedisError.invalidURL("no host in \"\(url)\"") }
        host = String(hostPart)
        if let portPart {
            guard let number = Int(portPart), (1...65535).contains(number) else {
                throw RedisError.invalidURL("port \"\(portPart)\" is not a number in 1...65535")
            }
            port = number
        }
    }

    private static func percentDecoded(_ text: Substring) throws -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw RedisError.invalidURL("bad percent-encoding in user or password")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// How long a connection slot waits before its next connect after failures: `initial`,
/// doubling per failure up to `maximum`, less a random share of up to `jitter` so that
/// clients that lost the server together do not all come back in the same millisecond.
public struct RedisBackoff: Sendable, Equatable {
    public var initial: TimeAmount
    public var maximum: TimeAmount
    /// 0 to 1: the largest fraction taken off a delay at random.
    public var jitter: Double

    public init(initial: TimeAmount = .milliseconds(50), maximum: TimeAmount = .seconds(2), jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The wait after `failures` (1 or more) failed connects in a row; `random` is in 0..<1.
    public func delay(afterFailures failures: Int, random: Double) -> TimeAmount {
        let doublings = min(max(failures - 1, 0), 40)
        let (scaled, overflow) = initial.nanoseconds.multipliedReportingOverflow(by: Int64(1) << doublings)
        let full = overflow ? maximum.nanoseconds : min(maximum.nanoseconds, scaled)
        return .nanoseconds(full - Int64(Double(full) * jitter * random))
    }
}
