import NIOCore
import NIOPosix
import Testing
@testable import SluiceRedis

/// `RedisClient` against a real redis-server: the lazy pool, scripts, and behaviour while the
/// server is paused, killed and back.
@Suite struct ClientTests {
    @Test func opensItsPoolLazilyAndUsesEveryConnection() async throws {
        let server = try await RedisServerProcess.start()
        let client = try RedisClient(url: server.url + "/0")
        let observer = try await server.connection()
        #expect(try await Self.clientCount(observer) == 1)
        for _ in 0..<6 { _ = try await client.execute(RedisCommand("PING"), timeout: patientTimeout) }
        #expect(try await Self.clientCount(observer) == 3)
        try await client.shutdown().get()
        await #expect(throws: RedisError.shutdown) { try await client.execute(RedisCommand("PING")) }
        #expect(await eventually { (try? await Self.clientCount(observer)) == 1 })
    }

    @Test func keysLandInTheConfiguredDatabaseWithAuth() async throws {
        let server = try await RedisServerProcess.start(["--requirepass", "pw"])
        let client = try RedisClient(url: "redis://:pw@127.0.0.1:\(server.port)/5")
        _ = try await client.execute(RedisCommand("SET", "k", "v"), timeout: patientTimeout)
        let observer = try await server.connection(server.configuration(password: "pw", database: 5))
        #expect(try await observer.execute(RedisCommand("GET", "k")).string == "v")
        _ = try await observer.execute(RedisCommand("SELECT", "0"))
        #expect(try await observer.execute(RedisCommand("EXISTS", "k")) == .integer(0))
        try await client.shutdown().get()
    }

    @Test func scriptsRunBySHAAndReloadAfterFlush() async throws {
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

    @Test func pausedServerFailsCommandsWithinTheTimeoutThenRecovers() async throws {
        let server = try await RedisServerProcess.start()
        let timeout = TimeAmount.milliseconds(200)
        let client = server.client(server.configuration(commandTimeout: timeout))
        _ = try await client.execute(RedisCommand("PING"), timeout: patientTimeout)
        server.pause()
        for _ in 0..<4 {
            let (seconds, error) = await timed { _ = try await client.execute(RedisCommand("PING")) }
            #expect(error is RedisError, "\(String(describing: error))")
            #expect(seconds < 0.2 + 1.0, "took \(seconds)s")
        }
        server.resume()
        #expect(await eventually { (try? await client.execute(RedisCommand("PING"), timeout: patientTimeout))?.string == "PONG" })
        try await client.shutdown().get()
    }

    @Test func killedServerFailsFastAndRecoversAfterRestart() async throws {
        let server = try await RedisServerProcess.start()
        let timeout = TimeAmount.milliseconds(200)
        let backoff = RedisBackoff(initial: .milliseconds(50), maximum: .milliseconds(400))
        let client = server.client(server.configuration(commandTimeout: timeout, backoff: backoff))
        _ = try await client.execute(RedisCommand("SET", "before", "1"), timeout: patientTimeout)
        server.kill()

        var unavailable = 0
        let (total, _) = await timed {
            for _ in 0..<50 {
                let (seconds, error) = await timed { _ = try await client.execute(RedisCommand("PING")) }
                #expect(error is RedisError, "\(String(describing: error))")
                #expect(seconds < 0.2 + 1.0, "took \(seconds)s")
                if case .unavailable = error as? RedisError { unavailable += 1 }
            }
        }
        // Most fail without trying, while their slot backs off; none waits out a timeout.
        #expect(unavailable > 0)
        #expect(total < 50 * 0.2, "50 commands took \(total)s")

        try await server.restart()
        #expect(await eventually { (try? await client.execute(RedisCommand("PING"), timeout: patientTimeout))?.string == "PONG" })
        // Every slot comes back (a fresh server: the old key is gone).
        for _ in 0..<4 {
            #expect(try await client.execute(RedisCommand("EXISTS", "before"), timeout: patientTimeout) == .integer(0))
        }
        try await client.shutdown().get()
    }

    @Test func neverStartedServerFailsFast() async throws {
        let port = try await RedisServerProcess.freePort()
        let client = RedisClient(configuration: RedisConfiguration(port: port, commandTimeout: .milliseconds(200)), randomSeed: 1)
        for _ in 0..<10 {
            let (seconds, error) = await timed { _ = try await client.execute(RedisCommand("PING")) }
            #expect(error is RedisError)
            #expect(seconds < 0.2 + 1.0)
        }
        try await client.shutdown().get()
    }

    /// Connections the server has, counting `observer` itself.
    static func clientCount(_ observer: RedisConnection) async throws -> Int {
        let list = try await observer.execute(RedisCommand("CLIENT", "LIST"), timeout: patientTimeout)
        return list.string?.split(separator: "\n").count ?? -1
    }
}
