import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SluiceTestSupport
import Testing
@testable import SluiceRedis

/// `RedisSubscriber` against a real redis-server: messages arrive in order, a password is
/// sent first, and a restarted server is subscribed to again.
@Suite(.serialized) struct SubscriberTests {
    final class Inbox: Sendable {
        private let messages = NIOLockedValueBox<[String]>([])
        var all: [String] { messages.withLockedValue { $0 } }
        func add(_ message: String) { messages.withLockedValue { $0.append(message) } }
    }

    @Test func publishedMessagesArriveInOrderAndAfterARestart() async throws {
        try await withTestDeadline {
            let server = try await RedisServerProcess.start(["--requirepass", "pw"])
            var configuration = try RedisConfiguration.patient("redis://:pw@127.0.0.1:\(server.port)")
            configuration.backoff = RedisBackoff(initial: .milliseconds(20), maximum: .milliseconds(200))
            let inbox = Inbox()
            let subscriber = RedisSubscriber(configuration: configuration, channel: "news", eventLoop: redisTestGroup.next()) {
                inbox.add($0)
            }
            subscriber.start()
            #expect(await eventually { subscriber.isSubscribed })
            let publisher = RedisClient(configuration: configuration, group: redisTestGroup)
            for index in 0..<3 { _ = try await publisher.execute(RedisCommand("PUBLISH", "news", "m\(index) with spaces")) }
            _ = try await publisher.execute(RedisCommand("PUBLISH", "other", "not for us"))
            #expect(await eventually { inbox.all.count == 3 })
            #expect(inbox.all == ["m0 with spaces", "m1 with spaces", "m2 with spaces"])

            try await server.restart()
            // Published before the new subscription, a message is lost (pub/sub keeps none):
            // publish until one arrives.
            #expect(await eventually(within: 60) {
                _ = try? await publisher.execute(RedisCommand("PUBLISH", "news", "after"))
                return inbox.all.last == "after"
            })
            try await subscriber.stop().get()
            #expect(!subscriber.isSubscribed)
            try await publisher.shutdown().get()
            server.kill()
        }
    }
}
