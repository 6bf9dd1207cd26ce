import NIOCore
import NIOPosix
import SluiceTestSupport
import Testing
@testable import SluiceRedis

/// `RedisConnection` against a real redis-server: pipelining, AUTH, SELECT, and the timeout
/// when the server stops answering. Serialized: each test starts its own server.
@Suite(.serialized) struct ConnectionTests {
    @Test func pipelinesManyCommandsInOrder() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let connection = try await server.connection()
            let replies = (0..<200).map { _ in connection.send(RedisCommand("INCR", "counter")) }
            let values = try await EventLoopFuture.whenAllSucceed(replies, on: connection.eventLoop).get()
            #expect(values == (1...200).map { RESPValue.integer(Int64($0)) })
            #expect(try await connection.execute(RedisCommand("GET", "counter")).int == 200)
            #expect(try await connection.execute(RedisCommand("GET", "missing")) == .null)
            try await connection.close().get()
        }
    }

    @Test func errorRepliesFailOnlyTheirCommand() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let connection = try await server.connection()
            _ = try await connection.execute(RedisCommand("SET", "s", "text"))
            await #expect(throws: RedisError.self) { try await connection.execute(RedisCommand("INCR", "s")) }
            #expect(try await connection.execute(RedisCommand("PING")).string == "PONG")
            #expect(connection.isActive)
            try await connection.close().get()
        }
    }

    @Test func authenticatesWithPasswordOrUserAndPassword() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start([
                "--requirepass", "s3cret", "--user", "alice", "on", ">wonder", "~*", "&*", "+@all",
            ])
            let withPassword = try await server.connection(server.configuration(password: "s3cret"))
            #expect(try await withPassword.execute(RedisCommand("PING")).string == "PONG")
            let asAlice = try await server.connection(server.configuration(password: "wonder", username: "alice"))
            #expect(try await asAlice.execute(RedisCommand("ACL", "WHOAMI")).string == "alice")

            // Without AUTH the server refuses commands; with a wrong password connecting fails.
            let anonymous = try await server.connection()
            await #expect(throws: RedisError.self) { try await anonymous.execute(RedisCommand("PING")) }
            do {
                _ = try await server.connection(server.configuration(password: "wrong"))
                Issue.record("connected with a wrong password")
            } catch let RedisError.connectFailed(reason) {
                #expect(reason.contains("WRONGPASS"), "\(reason)")
            }
            for connection in [withPassword, asAlice, anonymous] { try await connection.close().get() }
        }
    }

    @Test func selectsTheConfiguredDatabase() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let inThree = try await server.connection(server.configuration(database: 3))
            _ = try await inThree.execute(RedisCommand("SET", "where", "three"))
            let inZero = try await server.connection()
            #expect(try await inZero.execute(RedisCommand("GET", "where")) == .null)
            _ = try await inZero.execute(RedisCommand("SELECT", "3"))
            #expect(try await inZero.execute(RedisCommand("GET", "where")).string == "three")

            // A database the server does not have fails the connect.
            await #expect(throws: RedisError.self) { try await server.connection(server.configuration(database: 99)) }
            for connection in [inThree, inZero] { try await connection.close().get() }
        }
    }

    @Test func pausedServerTimesOutWithinTheTimeoutAndCloses() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let timeout = TimeAmount.milliseconds(200)
            let connection = try await server.connection(server.configuration(commandTimeout: timeout))
            #expect(try await connection.execute(RedisCommand("PING"), timeout: patientTimeout).string == "PONG")
            server.pause()
            defer { server.resume() }
            let pending = connection.send(RedisCommand("GET", "b"), timeout: .seconds(30))
            let (seconds, error) = await timed(within: 0.2 + loadSlack) { _ = try await connection.execute(RedisCommand("GET", "a")) }
            #expect(error as? RedisError == .timeout, "\(String(describing: error))")
            #expect(seconds < 0.2 + loadSlack, "took \(seconds)s")
            // The other pipelined command fails with the connection, long before its own 30 s.
            await #expect(throws: RedisError.connectionClosed) { try await pending.get() }
            #expect(await eventually { !connection.isActive })
        }
    }

    @Test func connectToNothingFailsAsConnectFailed() async throws {
        try await withTestDeadline {
            let nothing = try ReservedPort()
            let configuration = RedisConfiguration(host: "127.0.0.1", port: nothing.port, connectTimeout: patientTimeout)
            do {
                _ = try await RedisConnection.connect(configuration, on: redisTestGroup.next()).get()
                Issue.record("connected to a closed port")
            } catch let RedisError.connectFailed(reason) {
                #expect(reason.contains("127.0.0.1:\(nothing.port)"), "\(reason)")
            }
        }
    }
}
