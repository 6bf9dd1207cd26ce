import NIOCore
import SluiceConfig
import Testing
@testable import SluiceProxy

/// Server-sent events and long polls: every chunk reaches the client as the backend sends it,
/// and `timeouts.stream` bounds a response's whole life.
@Suite struct StreamingResponseTests {
    @Test func eachEventArrivesBeforeTheNextIsSent() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [backend.address])
        let (channel, collector) = try await RawClient.open(port: proxy.port, group: testGroup)
        channel.writeAndFlush(channel.allocator.buffer(string: "GET /events HTTP/1.1\r\nHost: sse.test\r\n\r\n"), promise: nil)
        #expect(await eventually { backend.openEventStreams == 1 })
        #expect(await eventually { collector.text.contains("content-type: text/event-stream") })
        // The backend sends the next event only once the client has seen the one before: a
        // proxy that buffered would never get past the first.
        for n in 1...5 {
            backend.sendEvent("event \(n)")
            #expect(await eventually { collector.text.contains("data: event \(n)\n\n") }, "event \(n)")
        }
        backend.sendEvent(nil)
        #expect(await eventually { collector.text.hasSuffix("0\r\n\r\n") })
        try? await channel.close()
        await proxy.stop()
        await backend.stop()
    }

    @Test func aStreamLongerThanTheRoutesStreamTimeoutIsCut() async throws {
        let backend = try await TestBackend.start(group: testGroup)
        let proxy = try await ProxyHarness.start(backends: [backend.address]) { config in
            var events = RouteConfig(name: "events", match: RouteMatch(pathPrefix: "/events"), cluster: "main")
            events.timeouts.stream = .milliseconds(300)
            config.routes.insert(events, at: 0)
        }
        let (channel, collector) = try await RawClient.open(port: proxy.port, group: testGroup)
        channel.writeAndFlush(channel.allocator.buffer(string: "GET /events HTTP/1.1\r\nHost: sse.test\r\n\r\n"), promise: nil)
        #expect(await eventually { backend.openEventStreams == 1 })
        backend.sendEvent("first")
        // The stream timeout, not the 60 s idle timeout, ends it: the response is cut (or, on a
        // machine so loaded that 300 ms passed before the head, answered 504), and logged.
        #expect(await eventually { proxy.accessLog.all.contains { $0.contains("stream timeout after 0.3 seconds on route events") } })
        let cut = await collector.waitForClose(channel: channel, deadline: .seconds(20))
        #expect(cut || collector.text.hasPrefix("HTTP/1.1 504"), "\(collector.text)")
        // Other routes have no stream limit.
        #expect(try await Curl.run(["\(proxy.url)/hello"]).stdout == "hello from backend")
        backend.sendEvent(nil)
        await proxy.stop()
        await backend.stop()
    }
}
