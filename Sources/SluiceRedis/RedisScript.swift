import NIOCore

/// A Lua script, run by its SHA-1 so that only 40 bytes travel per call. The server loads it
/// on the first `NOSCRIPT` (after a restart, a failover or `SCRIPT FLUSH`).
public struct RedisScript: Sendable, Hashable {
    public let source: String
    /// Lowercase hex SHA-1 of `source`, as `SCRIPT LOAD` returns it.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        sha1 = SHA1.hexDigest(source)
    }
}

extension RedisClient {
    /// `EVALSHA`; on `NOSCRIPT`, `SCRIPT LOAD` and one more `EVALSHA`. Each of those round
    /// trips has its own `timeout`.
    public func run(_ script: RedisScript, keys: [String] = [], arguments: [String] = [], timeout: TimeAmount? = nil) -> EventLoopFuture<RESPValue> {
        var command = RedisCommand("EVALSHA", script.sha1)
        command.append(keys.count)
        for key in keys { command.append(key) }
        for argument in arguments { command.append(argument) }
        let evalsha = command
        let first = send(evalsha, timeout: timeout)
        return first.flatMapError { error in
            guard let redisError = error as? RedisError, redisError.isNoScript else {
                return first.eventLoop.makeFailedFuture(error)
            }
            return self.send(RedisCommand("SCRIPT", "LOAD", script.source), timeout: timeout).flatMap { loaded in
                guard loaded.string == script.sha1 else {
                    return first.eventLoop.makeFailedFuture(RedisError.unexpectedReply("SCRIPT LOAD answered \(loaded), expected \(script.sha1)"))
                }
                return self.send(evalsha, timeout: timeout)
            }
        }
    }

    /// `run`, awaited.
    public func execute(_ script: RedisScript, keys: [String] = [], arguments: [String] = [], timeout: TimeAmount? = nil) async throws -> RESPValue {
        try await run(script, keys: keys, arguments: arguments, timeout: timeout).get()
    }
}
