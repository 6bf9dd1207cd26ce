import NIOCore
import NIOPosix
import SluiceTestSupport
import Testing
@testable import SluiceRedis

/// `RedisClient` against a real redis-server: the lazy pool, scripts, and behaviour while the
/// server is paused, killed and back. Serialized: each test starts its own server.
@Suite(.serialized) struct ClientTests {
    @Test func opensItsPoolLazilyAndUsesEveryConnection() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let url = server.url + "/0"
            #expect(try RedisClient(url: url).configuration == RedisConfiguration(url: url))
            let client = RedisClient(configuration: try .patient(url), group: redisTestGroup)
            let observer = try await server.connection()
            // Eventually: the server may not have seen the close of `start`'s probe yet.
            #expect(await eventually { (try? await Self.clientCount(observer)) == 1 })
            for _ in 0..<6 { _ = try await client.execute(RedisCommand("PING")) }
            #expect(try await Self.clientCount(observer) == 3)
            try await client.shutdown().get()
            await #expect(throws: RedisError.shutdown) { try await client.execute(RedisCommand("PING")) }
            #expect(await eventually { (try? await Self.clientCount(observer)) == 1 })
        }
    }

    @Test func keysLandInTheConfiguredDatabaseWithAuth() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start(["--requirepass", "pw"])
            let client = RedisClient(configuration: try .patient("redis://:pw@127.0.0.1:\(server.port)/5"), group: redisTestGroup)
            _ = try await client.execute(RedisCommand("SET", "k", "v"))
            let observer = try await server.connection(server.configuration(password: "pw", database: 5))
            #expect(try await observer.execute(RedisCommand("GET", "k")).string == "v")
            _ = try await observer.execute(RedisCommand("SELECT", "0"))
            #expect(try await observer.execute(RedisCommand("EXISTS", "k")) == .integer(0))
            try await client.shutdown().get()
        }
    }

    @Test func scriptsRunBySHAAndReloadAfterFlush() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let client = server.client()
            let script = RedisScript("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
            let first = try await client.execute(script, keys: ["n"], arguments: ["x"])
            #expect(first == .array([.bulkString(ByteBuffer(string: "n")), .bulkString(ByteBuffer(string: "x")), .integer(1)]))
            let exists = try await client.execute(RedisCommand("SCRIPT", "EXISTS", script.sha1))
            #expect(exists == .array([.integer(1)]))

            _ = try await client.execute(RedisCommand("SCRIPT", "FLUSH"))
            #expect(try await client.execute(RedisCommand("SCRIPT", "EXISTS", script.sha1)) == .array([.integer(0)]))
            let again = try await client.execute(script, keys: ["n"], arguments: ["y"])
            #expect(again.array?.last == .integer(2))

            // The server's SHA-1 of the rate-limit script is ours.
            let loaded = try await client.execute(RedisCommand("SCRIPT", "LOAD", RateLimitScript.source))
            #expect(loaded.string == RateLimitScript.script.sha1)

            let failing = RedisScript("return redis.error_reply('ERR boom')")
            await #expect(throws: RedisError.server("ERR boom")) { try await client.execute(failing) }
            try await client.shutdown().get()
        }
    }

    @Test func pausedServerFailsCommandsWithinTheTimeoutThenRecovers() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let timeout = TimeAmount.milliseconds(200)
            let client = server.client(server.configuration(commandTimeout: timeout))
            _ = try await client.execute(RedisCommand("PING"), timeout: patientTimeout)
            server.pause()
            defer { server.resume() }
            // Each times out (a reconnect succeeds: the kernel still accepts), none hangs.
            for _ in 0..<4 {
                let (seconds, error) = await timed(within: 0.2 + loadSlack) { _ = try await client.execute(RedisCommand("PING")) }
                #expect(error as? RedisError == .timeout, "\(String(describing: error))")
                #expect(seconds < 0.2 + loadSlack, "took \(seconds)s")
            }
            server.resume()
            #expect(await eventually { (try? await client.execute(RedisCommand("PING"), timeout: patientTimeout))?.string == "PONG" })
            try await client.shutdown().get()
        }
    }

    @Test func killedServerFailsFastAndRecoversAfterRestart() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start()
            let timeout = TimeAmount.milliseconds(200)
            // Long enough that the commands below meet slots backing off even on a loaded machine.
            let backoff = RedisBackoff(initial: .seconds(1), maximum: .seconds(2))
            let client = server.client(server.configuration(commandTimeout: timeout, backoff: backoff))
            _ = try await client.execute(RedisCommand("SET", "before", "1"), timeout: patientTimeout)
            server.kill()

            var unavailable = 0
            for _ in 0..<50 {
                let (seconds, error) = await timed(within: 0.2 + loadSlack) { _ = try await client.execute(RedisCommand("PING")) }
                #expect(error is RedisError, "\(String(describing: error))")
                #expect(seconds < 0.2 + loadSlack, "took \(seconds)s")
                if case .unavailable = error as? RedisError { unavailable += 1 }
            }
            // Commands on a slot that is backing off fail without trying.
            #expect(unavailable > 0)

            try await server.restart()
            #expect(await eventually { (try? await client.execute(RedisCommand("PING"), timeout: patientTimeout))?.string == "PONG" })
            // Every slot comes back (a fresh server: the old key is gone).
            for _ in 0..<4 {
                #expect(try await client.execute(RedisCommand("EXISTS", "before"), timeout: patientTimeout) == .integer(0))
            }
            try await client.shutdown().get()
        }
    }

    @Test func neverStartedServerFailsFast() async throws {
        try await withTestDeadline {
            let nothing = try ReservedPort()
            let timeout = TimeAmount.milliseconds(200)
            let client = RedisClient(configuration: RedisConfiguration(port: nothing.port, commandTimeout: timeout), group: redisTestGroup, randomSeed: 1)
            for _ in 0..<10 {
                let (seconds, error) = await timed(within: 0.2 + loadSlack) { _ = try await client.execute(RedisCommand("PING")) }
                #expect(error is RedisError, "\(String(describing: error))")
                #expect(seconds < 0.2 + loadSlack, "took \(seconds)s")
            }
            try await client.shutdown().get()
            withExtendedLifetime(nothing) {}
        }
    }

    /// Connections the server has, counting `observer` itself.
    static func clientCount(_ observer: RedisConnection) async throws -> Int {
        let list = try await observer.execute(RedisCommand("CLIENT", "LIST"), timeout: patientTimeout)
        return list.string?.split(separator: "\n").count ?? -1
    }
}
