import Logging
import NIOCore
import SluiceConfig
import SluiceRedis

/// Purges reach every instance sharing one Redis: each purge is applied here, then published
/// on `sluice:cache:purge`; every instance applies what others publish. Pub/sub keeps no
/// history, so an instance that was disconnected misses purges sent meanwhile (their objects
/// still expire by their own freshness).
final class PurgeFanout: Sendable {
    static let channel = "sluice:cache:purge"
    /// This process, so that it skips its own messages.
    let instance: String
    private let publisher: RedisClient
    private let subscriber: RedisSubscriber
    private let logger: Logger

    init(url: String, cache: HTTPCache, eventLoop: any EventLoop, logger: Logger) throws {
        var configuration = try RedisConfiguration(url: url)
        configuration.commandTimeout = .seconds(2)
        configuration.poolSize = 1
        let instance = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        self.instance = instance
        self.logger = logger
        publisher = RedisClient(configuration: configuration, group: eventLoop, logger: logger)
        subscriber = RedisSubscriber(configuration: configuration, channel: Self.channel, eventLoop: eventLoop, logger: logger) { message in
            guard let (sender, selector) = Self.decode(message), sender != instance else { return }
            let purged = cache.purge(selector)
            logger.info("cache purged by another instance", metadata: ["selector": "\(selector)", "purged": "\(purged)", "from": "\(sender)"])
        }
    }

    /// The Redis a configuration fans purges out over: `cache.purge_fanout`, else the first
    /// rate-limit policy's Redis store; nil for none (or `purge_fanout: off`).
    static func url(for config: SluiceConfig) -> String? {
        if let explicit = config.cache.purgeFanout { return explicit == "off" ? nil : explicit }
        for policy in config.rateLimits { if case .redis(let url) = policy.store { return url } }
        return nil
    }

    var isSubscribed: Bool { subscriber.isSubscribed }

    func start() { subscriber.start() }

    func stop() async {
        try? await subscriber.stop().get()
    }

    func publish(_ selector: PurgeSelector) {
        let message = Self.encode(instance, selector)
        publisher.send(RedisCommand("PUBLISH", Self.channel, message)).whenFailure { [logger] error in
            logger.warning("cache purge not sent to the other instances", metadata: ["error": "\(error)"])
        }
    }

    /// `<instance> <url|prefix|tag> <value>`: the value last, as it may hold spaces.
    static func encode(_ instance: String, _ selector: PurgeSelector) -> String {
        switch selector {
        case .url(let url): "\(instance) url \(url)"
        case .prefix(let prefix): "\(instance) prefix \(prefix)"
        case .tag(let tag): "\(instance) tag \(tag)"
        }
    }

    static func decode(_ message: String) -> (String, PurgeSelector)? {
        let parts = message.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[2].isEmpty else { return nil }
        switch parts[1] {
        case "url": return (parts[0], .url(parts[2]))
        case "prefix": return (parts[0], .prefix(parts[2]))
        case "tag": return (parts[0], .tag(parts[2]))
        default: return nil
        }
    }
}
