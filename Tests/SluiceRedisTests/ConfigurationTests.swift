import NIOCore
import SluiceBalancing
import Testing
@testable import SluiceRedis

/// `redis://` URLs, the backoff schedule and SHA-1: plain values, no server.
@Suite struct ConfigurationTests {
    @Test func defaults() {
        let configuration = RedisConfiguration()
        #expect(configuration.commandTimeout == .milliseconds(50))
        #expect(configuration.poolSize == 2)
        #expect(configuration.backoff == RedisBackoff(initial: .milliseconds(50), maximum: .seconds(2), jitter: 0.2))
    }

    @Test func parsesFullURL() throws {
        let configuration = try RedisConfiguration(url: "redis://alice:s3cr%40t@cache.internal:6380/4")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.username == "alice")
        #expect(configuration.password == "s3cr@t")
        #expect(configuration.database == 4)
    }

    @Test func parsesPasswordOnlyAndDefaults() throws {
        let withPassword = try RedisConfiguration(url: "redis://:pw@127.0.0.1:6379/0")
        #expect(withPassword.username == nil)
        #expect(withPassword.password == "pw")
        #expect(withPassword.database == 0)
        let bare = try RedisConfiguration(url: "REDIS://localhost")
        #expect(bare.host == "localhost")
        #expect(bare.port == 6379)
        #expect(bare.password == nil)
        #expect(bare.database == 0)
        let slash = try RedisConfiguration(url: "redis://h:1/")
        #expect(slash.port == 1)
        #expect(slash.database == 0)
        let ipv6 = try RedisConfiguration(url: "redis://[::1]:7000/2")
        #expect(ipv6.host == "::1")
        #expect(ipv6.port == 7000)
        #expect(ipv6.database == 2)
    }

    @Test(arguments: [
        ("localhost:6379", "no scheme"),
        ("http://localhost", "scheme \"http\""),
        ("rediss://localhost", "TLS"),
        ("redis://", "no host"),
        ("redis://:6379", "no host"),
        ("redis://localhost:0", "port \"0\""),
        ("redis://localhost:70000", "port \"70000\""),
        ("redis://localhost:abc", "port \"abc\""),
        ("redis://localhost/x", "database \"x\""),
        ("redis://localhost/-1", "database \"-1\""),
        ("redis://user@localhost", "without a password"),
        ("redis://:@localhost", "empty password"),
        ("redis://:p%zz@localhost", "percent-encoding"),
        ("redis://localhost?db=1", "query"),
        ("redis://[::1/0", "unclosed"),
    ])
    func rejectsBadURLs(url: String, reason: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("\(url) was accepted")
        } catch let RedisError.invalidURL(message) {
            #expect(message.contains(reason), "\(url): \(message)")
        } catch {
            Issue.record("\(url): \(error)")
        }
    }

    @Test func clientFromURLCarriesTheConfiguration() throws {
        let client = try RedisClient(url: "redis://:pw@127.0.0.1:1/3")
        #expect(client.configuration.password == "pw")
        #expect(client.configuration.database == 3)
        #expect(throws: RedisError.self) { try RedisClient(url: "nope") }
    }

    @Test func backoffDoublesToItsMaximumLessJitter() {
        let backoff = RedisBackoff()
        #expect(backoff.delay(afterFailures: 1, random: 0) == .milliseconds(50))
        #expect(backoff.delay(afterFailures: 2, random: 0) == .milliseconds(100))
        #expect(backoff.delay(afterFailures: 6, random: 0) == .milliseconds(1600))
        #expect(backoff.delay(afterFailures: 7, random: 0) == .seconds(2))
        #expect(backoff.delay(afterFailures: 1000, random: 0) == .seconds(2))
        #expect(backoff.delay(afterFailures: 1, random: 0.5) == .milliseconds(45))
        let jittered = backoff.delay(afterFailures: 7, random: 0.999_999)
        #expect(jittered > .milliseconds(1600) && jittered <= .seconds(2))
        #expect(RedisBackoff(jitter: 0).delay(afterFailures: 3, random: 0.9) == .milliseconds(200))
    }

    @Test func seededJitterRepeats() {
        var a = SplitMix64(seed: 7)
        var b = SplitMix64(seed: 7)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
    }

    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
        ("héllo wörld", "24e9f5c07847ff8a2a9fa77456655792f5bc7f9f"),
    ])
    func sha1KnownVectors(input: String, digest: String) {
        #expect(SHA1.hexDigest(input) == digest)
    }

    @Test func sha1AtBlockBoundariesAndLong() {
        // Lengths around the 55/56/64-byte padding edges.
        let expected = [
            55: "c1c8bbdc22796e28c0e15163d20899b65621d65a", 56: "c2db330f6083854c99d4b5bfb6e8f29f201be699",
            63: "03f09f5b158a7a8cdad920bddc29b81c18a551f5", 64: "0098ba824b5c16427bd7a1122a5a442a25ec644d",
            65: "11655326c708d70319be2610e8a57d9a5b959d3b", 119: "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56",
            120: "f34c1488385346a55709ba056ddd08280dd4c6d6",
        ]
        for (length, digest) in expected {
            #expect(SHA1.hexDigest(String(repeating: "a", count: length)) == digest, "length \(length)")
        }
        #expect(SHA1.hexDigest((0...255).map { UInt8($0) }) == "4916d6bdb7f78e6803698cab32d1586ea457dfc8")
        #expect(SHA1.hexDigest(repeatElement(UInt8(ascii: "a"), count: 1_000_000)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        #expect(RedisScript("return 1").sha1 == SHA1.hexDigest("return 1"))
    }
}
