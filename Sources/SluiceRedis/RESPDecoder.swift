import NIOCore

/// Decodes RESP2 replies. A reply split across reads at any byte is left in the buffer until
/// it is whole: each attempt parses a copy (sharing storage, so no bytes move) and consumes
/// only a complete reply. Anything that is not RESP2, or exceeds the limits, is an error,
/// since after it no later reply could be matched to its command.
///
/// A partial reply is parsed again from its start on every read; that is cheap for the small
/// replies Sluice asks for (bulk payloads are skipped by length, not scanned).
public struct RESPReplyDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RESPValue

    /// Largest bulk string accepted (Redis itself allows 512 MiB).
    public var maxBulkLength: Int
    /// Deepest nesting of arrays accepted.
    public var maxDepth: Int
    /// Longest simple line (`+`, `-`, `:`, headers) accepted.
    public var maxLineLength: Int

    public init(maxBulkLength: Int = 64 << 20, maxDepth: Int = 32, maxLineLength: Int = 64 << 10) {
        self.maxBulkLength = maxBulkLength
        self.maxDepth = maxDepth
        self.maxLineLength = maxLineLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try decodeOne(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A truncated reply at EOF is dropped: its command fails when the channel closes.
        try decode(context: context, buffer: &buffer)
    }

    /// One whole reply from the front of `buffer` (consumed), or nil if it is not all there.
    public func decodeOne(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        var attempt = buffer
        guard let value = try parse(&attempt, depth: 0) else { return nil }
        buffer.moveReaderIndex(to: attempt.readerIndex)
        return value
    }

    private func parse(_ buffer: inout ByteBuffer, depth: Int) throws -> RESPValue? {
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            return try readLine(&buffer).map { .simpleString($0) }
        case UInt8(ascii: "-"):
            return try readLine(&buffer).map { .error(String(buffer: $0)) }
        case UInt8(ascii: ":"):
            return try readInteger(&buffer).map { .integer($0) }
        case UInt8(ascii: "$"):
            guard let length = try readInteger(&buffer) else { return nil }
            if length == -1 { return .null }
            guard length >= 0, length <= maxBulkLength else {
                throw RedisError.protocolViolation("bulk string length \(length) outside 0...\(maxBulkLength)")
            }
            guard buffer.readableBytes >= Int(length) + 2 else { return nil }
            let payload = buffer.readSlice(length: Int(length))!
            guard buffer.readInteger(as: UInt16.self) == 0x0D0A else {
                throw RedisError.protocolViolation("bulk string not terminated by CRLF")
            }
            return .bulkString(payload)
        case UInt8(ascii: "*"):
            guard let count = try readInteger(&buffer) else { return nil }
            if count == -1 { return .null }
            guard count >= 0, count <= Int64(Int32.max) else { throw RedisError.protocolViolation("array length \(count)") }
            guard depth < maxDepth else { throw RedisError.protocolViolation("arrays nested deeper than \(maxDepth)") }
            var values: [RESPValue] = []
            // Never trust a header for the allocation: every element needs at least 3 bytes.
            values.reserveCapacity(min(Int(count), buffer.readableBytes / 3))
            for _ in 0..<count {
                guard let value = try parse(&buffer, depth: depth + 1) else { return nil }
                values.append(value)
            }
            return .array(values)
        default:
            throw RedisError.protocolViolation("unknown reply type byte 0x\(String(type, radix: 16))")
        }
    }

    /// The bytes up to CRLF (consumed with it), or nil if no CRLF has arrived yet.
    private func readLine(_ buffer: inout ByteBuffer) throws -> ByteBuffer? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count > maxLineLength { throw RedisError.protocolViolation("line longer than \(maxLineLength) bytes") }
            return nil
        }
        let length = newline - view.startIndex
        guard length >= 1, view[newline - 1] == UInt8(ascii: "\r") else {
            throw RedisError.protocolViolation("line not terminated by CRLF")
        }
        let line = buffer.readSlice(length: length - 1)!
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }

    private func readInteger(_ buffer: inout ByteBuffer) throws -> Int64? {
        guard let line = try readLine(&buffer) else { return nil }
        let bytes = line.readableBytesView
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 19 else { throw RedisError.protocolViolation("bad integer \"\(String(buffer: line))\"") }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw RedisError.protocolViolation("bad integer \"\(String(buffer: line))\"")
            }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw RedisError.protocolViolation("integer overflow") }
            value = sum
        }
        return negative ? -value : value
    }
}
