/// Why a command, a connection or a URL failed.
public enum RedisError: Error, Sendable, Equatable {
    /// The server answered with an error reply (`-ERR …`, `-NOSCRIPT …`, `-WRONGPASS …`).
    case server(String)
    /// No reply within the command's timeout; its connection was closed.
    case timeout
    /// The connection closed (or was closed after another command timed out) before the reply.
    case connectionClosed
    /// Connecting (TCP, `AUTH` or `SELECT`) failed.
    case connectFailed(String)
    /// Recent connects failed and the next attempt waits for its backoff: failed without trying.
    case unavailable(String)
    /// The server sent something that is not RESP2, or a reply nobody asked for.
    case protocolViolation(String)
    /// A reply of a shape the command never returns.
    case unexpectedReply(String)
    /// An argument no command could use (an empty tier list, a negative count).
    case invalidArgument(String)
    /// `redis://` URL that cannot be used.
    case invalidURL(String)
    /// The client was shut down.
    case shutdown

    /// Whether this is a `-NOSCRIPT` reply (the script cache does not hold a SHA).
    public var isNoScript: Bool {
        if case .server(let message) = self { message.hasPrefix("NOSCRIPT") } else { false }
    }
}

extension RedisError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .server(let message): "redis error: \(message)"
        case .timeout: "redis command timed out"
        case .connectionClosed: "redis connection closed"
        case .connectFailed(let reason): "redis connect failed: \(reason)"
        case .unavailable(let reason): "redis unavailable (backing off): \(reason)"
        case .protocolViolation(let reason): "redis protocol violation: \(reason)"
        case .unexpectedReply(let reason): "unexpected redis reply: \(reason)"
        case .invalidArgument(let reason): "invalid argument: \(reason)"
        case .invalidURL(let reason): "invalid redis URL: \(reason)"
        case .shutdown: "redis client shut down"
        }
    }
}
