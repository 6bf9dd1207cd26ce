import NIOCore
import NIOEmbedded
import Testing
@testable import SluiceRedis

/// `RedisCommandHandler` on an `EmbeddedChannel`: replies matched in order, error replies,
/// timeouts on the loop's virtual clock, and what a broken stream does to the rest.
@Suite struct CommandHandlerTests {
    static func makeConnection(timeout: TimeAmount = .milliseconds(50)) throws -> (EmbeddedChannel, RedisConnection) {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(RESPReplyDecoder()), RedisCommandHandler()])
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 6379), promise: nil)
        return (channel, RedisConnection(channel: channel, commandTimeout: timeout))
    }

    @Test func pipelinedRepliesGoToTheirCommandsInOrder() throws {
        let (channel, connection) = try Self.makeConnection()
        let get = Outcome(connection.send(RedisCommand("GET", "a")))
        let bad = Outcome(connection.send(RedisCommand("LPUSH", "a", "x")))
        let incr = Outcome(connection.send(RedisCommand("INCR", "c")))
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
        #expect(try channel.readOutbound(as: ByteBuffer.self) != nil)
        #expect(try channel.readOutbound(as: ByteBuffer.self) != nil)
        #expect(get.result == nil)

        // The replies arrive split mid-reply; each command gets its own.
        try channel.writeInbound(ByteBuffer(string: "$1\r\nA\r\n-WRONGTYPE Operation"))
        #expect(get.value?.string == "A")
        #expect(bad.result == nil)
        try channel.writeInbound(ByteBuffer(string: " against a key\r\n:5\r\n"))
        #expect(bad.error == .server("WRONGTYPE Operation against a key"))
        #expect(incr.value == .integer(5))
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func aTimeoutFailsThatCommandAndClosesTheConnection() throws {
        let (channel, connection) = try Self.makeConnection()
        let first = Outcome(connection.send(RedisCommand("GET", "a")))
        let second = Outcome(connection.send(RedisCommand("GET", "b"), timeout: .seconds(1)))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(49))
        #expect(first.result == nil)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(first.error == .timeout)
        // Its late reply would have gone to the second command: that fails too, unanswered.
        #expect(second.error == .connectionClosed)
        #expect(!channel.isActive)
        let after = Outcome(connection.send(RedisCommand("PING")))
        #expect(after.error == .connectionClosed)
    }

    @Test func answeredCommandsNeverTimeOut() throws {
        let (channel, connection) = try Self.makeConnection()
        let ping = Outcome(connection.send(RedisCommand("PING")))
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(ping.value?.string == "PONG")
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func aCommandPastItsDeadlineIsNotSent() throws {
        let (channel, connection) = try Self.makeConnection()
        let late = Outcome(connection.send(RedisCommand("PING"), deadline: channel.embeddedEventLoop.now))
        #expect(late.error == .timeout)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func garbageFailsTheCommandsAndCloses() throws {
        let (channel, connection) = try Self.makeConnection()
        let first = Outcome(connection.send(RedisCommand("PING")))
        let second = Outcome(connection.send(RedisCommand("PING")))
        try channel.writeInbound(ByteBuffer(string: "?what\r\n"))
        if case .protocolViolation = first.error {} else { Issue.record("first: \(String(describing: first.result))") }
        #expect(second.error == .connectionClosed)
        #expect(!channel.isActive)
    }

    @Test func anUnaskedForReplyCloses() throws {
        let (channel, _) = try Self.makeConnection()
        try channel.writeInbound(ByteBuffer(string: "+OK\r\n"))
        #expect(!channel.isActive)
    }

    @Test func closingFailsEverythingPending() throws {
        let (channel, connection) = try Self.makeConnection()
        let pending = (0..<3).map { _ in Outcome(connection.send(RedisCommand("PING"))) }
        channel.pipeline.fireChannelInactive()
        #expect(pending.allSatisfy { $0.error == .connectionClosed })
    }
}
