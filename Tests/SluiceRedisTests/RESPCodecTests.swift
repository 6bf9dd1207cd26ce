import NIOCore
import NIOEmbedded
import Testing
@testable import SluiceRedis

/// The RESP2 encoder's exact bytes, and the decoder on whole, split and malformed input.
@Suite struct RESPCodecTests {
    static let replies: [(wire: String, value: RESPValue)] = [
        ("+OK\r\n", .simpleString(ByteBuffer(string: "OK"))),
        ("-ERR unknown command\r\n", .error("ERR unknown command")),
        (":0\r\n", .integer(0)),
        (":-42\r\n", .integer(-42)),
        (":9223372036854775807\r\n", .integer(.max)),
        ("$5\r\nhello\r\n", .bulkString(ByteBuffer(string: "hello"))),
        ("$0\r\n\r\n", .bulkString(ByteBuffer())),
        ("$4\r\na\r\nb\r\n", .bulkString(ByteBuffer(string: "a\r\nb"))),
        ("$-1\r\n", .null),
        ("*-1\r\n", .null),
        ("*0\r\n", .array([])),
        ("*3\r\n:1\r\n$-1\r\n*2\r\n+a\r\n*1\r\n$1\r\nb\r\n", .array([
            .integer(1), .null, .array([.simpleString(ByteBuffer(string: "a")), .array([.bulkString(ByteBuffer(string: "b"))])]),
        ])),
        ("*2\r\n-NOSCRIPT x\r\n:7\r\n", .array([.error("NOSCRIPT x"), .integer(7)])),
    ]

    @Test func encodesCommandsAsArraysOfBulkStrings() {
        #expect(String(buffer: RedisCommand("SET", "key", "value").encoded) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
        #expect(String(buffer: RedisCommand("PING").encoded) == "*1\r\n$4\r\nPING\r\n")
        var command = RedisCommand("SET", ["k", ""])
        command.append(-12)
        command.append(ByteBuffer(string: "é\r\n"))
        // Lengths are bytes, not characters; CRLF inside an argument is just payload.
        #expect(String(buffer: command.encoded) == "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n$3\r\n-12\r\n$4\r\né\r\n\r\n")
        #expect(command.argumentCount == 5)
    }

    @Test func decodesEveryKindWhole() throws {
        let decoder = RESPReplyDecoder()
        for (wire, value) in Self.replies {
            var buffer = ByteBuffer(string: wire)
            #expect(try decoder.decodeOne(&buffer) == value, "\(wire.debugDescription)")
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func leavesIncompleteRepliesUntouchedAtEverySplit() throws {
        let decoder = RESPReplyDecoder()
        for (wire, value) in Self.replies {
            let bytes = Array(wire.utf8)
            for cut in 0..<bytes.count {
                var buffer = ByteBuffer(bytes: bytes[..<cut])
                #expect(try decoder.decodeOne(&buffer) == nil, "\(wire.debugDescription) cut at \(cut)")
                #expect(buffer.readableBytes == cut)
                buffer.writeBytes(bytes[cut...])
                #expect(try decoder.decodeOne(&buffer) == value)
            }
        }
    }

    @Test func handlerDecodesByteByByteOnAChannel() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RESPReplyDecoder()))
        let wire = Self.replies.map(\.wire).joined()
        var decoded: [RESPValue] = []
        for byte in wire.utf8 {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            while let value = try channel.readInbound(as: RESPValue.self) { decoded.append(value) }
        }
        #expect(decoded == Self.replies.map(\.value))
        #expect(try channel.finish().isClean)
    }

    @Test func severalRepliesInOneReadAllArrive() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RESPReplyDecoder()))
        try channel.writeInbound(ByteBuffer(string: "+A\r\n:1\r\n$1\r\nx\r\n"))
        #expect(try channel.readInbound(as: RESPValue.self)?.string == "A")
        #expect(try channel.readInbound(as: RESPValue.self) == .integer(1))
        #expect(try channel.readInbound(as: RESPValue.self)?.string == "x")
        #expect(try channel.readInbound(as: RESPValue.self) == nil)
        _ = try channel.finish()
    }

    @Test(arguments: [
        "!x\r\n", "+OK\n", ":12a\r\n", ":\r\n", "$3\r\nabcd\r\n", "$-2\r\n", "*-5\r\n",
        ":99999999999999999999\r\n", "$999999999\r\n",
    ])
    func rejectsMalformedInput(_ wire: String) {
        var buffer = ByteBuffer(string: wire)
        #expect(throws: RedisError.self) { try RESPReplyDecoder(maxBulkLength: 1 << 20).decodeOne(&buffer) }
    }

    @Test func enforcesDepthAndLineLimits() throws {
        var deep = ByteBuffer(string: String(repeating: "*1\r\n", count: 5) + ":1\r\n")
        #expect(throws: RedisError.self) { try RESPReplyDecoder(maxDepth: 4).decodeOne(&deep) }
        var ok = ByteBuffer(string: String(repeating: "*1\r\n", count: 4) + ":1\r\n")
        #expect(try RESPReplyDecoder(maxDepth: 4).decodeOne(&ok) != nil)
        var long = ByteBuffer(string: "+" + String(repeating: "a", count: 100))
        #expect(throws: RedisError.self) { try RESPReplyDecoder(maxLineLength: 64).decodeOne(&long) }
    }

    @Test func accessorsReadStringsIntegersAndArrays() {
        #expect(RESPValue.bulkString(ByteBuffer(string: "17")).int == 17)
        #expect(RESPValue.integer(3).int == 3)
        #expect(RESPValue.integer(3).string == nil)
        #expect(RESPValue.null.isNull)
        #expect(RESPValue.array([.integer(1)]).array == [.integer(1)])
        #expect(RESPValue.array([.integer(1), .null]).description == "[:1, (nil)]")
    }
}
