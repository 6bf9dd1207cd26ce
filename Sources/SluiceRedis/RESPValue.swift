import NIOCore

/// One RESP2 reply. RESP2 has two nulls (bulk and array); both arrive as `.null`, since no
/// command Sluice sends gives them different meanings.
public enum RESPValue: Sendable, Equatable {
    case simpleString(ByteBuffer)
    /// An error reply. `RedisConnection` fails a command's future with `RedisError.server`
    /// instead; this case appears only inside arrays (e.g. a script's table of results).
    case error(String)
    case integer(Int64)
    case bulkString(ByteBuffer)
    case null
    case array([RESPValue])

    /// The text of a simple or bulk string (nil for other kinds).
    public var string: String? {
        switch self {
        case .simpleString(let buffer), .bulkString(let buffer): String(buffer: buffer)
        case .error, .integer, .null, .array: nil
        }
    }

    /// An integer reply, or a string that holds one (as `GET` of a counter returns).
    public var int: Int? {
        switch self {
        case .integer(let value): Int(exactly: value)
        case .simpleString, .bulkString: string.flatMap { Int($0) }
        case .error, .null, .array: nil
        }
    }

    public var array: [RESPValue]? {
        if case .array(let values) = self { values } else { nil }
    }

    public var isNull: Bool {
        if case .null = self { true } else { false }
    }
}

extension RESPValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .simpleString(let buffer): "+\(String(buffer: buffer))"
        case .error(let message): "-\(message)"
        case .integer(let value): ":\(value)"
        case .bulkString(let buffer): "\"\(String(buffer: buffer))\""
        case .null: "(nil)"
        case .array(let values): "[\(values.map(\.description).joined(separator: ", "))]"
        }
    }
}

/// A command, encoded as it is built: an array of bulk strings (the only form Redis accepts
/// from clients besides inline commands). Arguments are kept as wire bytes, so sending one is
/// a single buffer copy.
public struct RedisCommand: Sendable, Equatable {
    /// The command name as given, for errors and logs.
    public let name: String
    public private(set) var argumentCount = 0
    /// Every argument (name included) as `$len\r\nbytes\r\n`, without the `*count` header.
    private var body: ByteBuffer

    public init(_ name: String, _ arguments: [String] = []) {
        self.name = name
        body = ByteBufferAllocator().buffer(capacity: 16 + name.utf8.count + arguments.reduce(0) { $0 + $1.utf8.count + 16 })
        append(name)
        for argument in arguments { append(argument) }
    }

    public init(_ name: String, _ arguments: String...) {
        self.init(name, arguments)
    }

    public mutating func append(_ argument: String) {
        body.writeString("$\(argument.utf8.count)\r\n")
        body.writeString(argument)
        body.writeStaticString("\r\n")
        argumentCount += 1
    }

    public mutating func append(_ argument: ByteBuffer) {
        body.writeString("$\(argument.readableBytes)\r\n")
        body.writeImmutableBuffer(argument)
        body.writeStaticString("\r\n")
        argumentCount += 1
    }

    public mutating func append(_ argument: some BinaryInteger) {
        append(String(argument))
    }

    /// Writes `*count\r\n` and the arguments.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString("*\(argumentCount)\r\n")
        buffer.writeImmutableBuffer(body)
    }

    /// The bytes this command puts on the wire.
    public var encoded: ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: body.readableBytes + 12)
        encode(into: &buffer)
        return buffer
    }
}
