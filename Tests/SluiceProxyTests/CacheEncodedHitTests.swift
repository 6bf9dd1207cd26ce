import NIOCore
import NIOHTTP1
import Testing
@testable import SluiceProxy

/// A full GET hit on HTTP/1.1 goes out as the object's head already in bytes (ClientResponseEncoder):
/// it must say what a hit encoded field by field says, and leave the connection's later
/// answers in step.
@Suite struct CacheEncodedHitTests {
    @Test func aHitSentAsBytesCarriesTheFieldsOfAnEncodedOne() async throws {
        let (proxy, origin, clock) = try await CacheTests.start()
        origin.set("/f", [("Cache-Control", "max-age=60"), ("ETag", "\"v1\""), ("Via", "1.1 upstream"),
                          ("Keep-Alive", "timeout=5"), ("X-Custom", "kept")], body: "fields")
        // Stored with a Connection field: always answered field by field, which drops what it names.
        origin.set("/h", [("Cache-Control", "max-age=60"), ("Connection", "x-hop"), ("X-Hop", "secret")], body: "hop")
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        _ = try await CacheTests.get(client, "/f")
        clock.advance(by: 5)
        let hit = try await CacheTests.get(client, "/f")
        // HEAD is answered from the stored GET by the field-by-field path.
        let head = try await CacheTests.get(client, "/f", method: .HEAD)
        #expect(hit.status == 200 && hit.body == "fields" && head.status == 200 && head.body.isEmpty)
        let fields = hit.head.headers
        #expect(fields["via"] == ["1.1 upstream, 1.1 sluice"])
        #expect(fields["content-length"] == ["6"])
        #expect(fields["age"] == ["5"])
        #expect(fields["cache-status"] == ["Sluice; hit; ttl=55"])
        #expect(fields["x-custom"] == ["kept"] && fields["etag"] == ["\"v1\""])
        #expect(fields["keep-alive"].isEmpty && fields["connection"].isEmpty)
        #expect(fields["x-request-id"].count == 1)
        // Every field but the request id is the same, once each, in both answers.
        let named = { (headers: HTTPHeaders) in
            headers.filter { $0.name.lowercased() != "x-request-id" }.map { "\($0.name.lowercased()): \($0.value)" }.sorted()
        }
        #expect(named(fields) == named(head.head.headers))
        #expect(origin.requests(to: "/f").count == 1)
        _ = try await CacheTests.get(client, "/h")
        let hop = try await CacheTests.get(client, "/h")
        #expect(hop.body == "hop" && hop.head.headers.first(name: "cache-status")?.hasPrefix("Sluice; hit") == true)
        #expect(hop.head.headers["x-hop"].isEmpty && hop.head.headers["connection"].isEmpty)
        #expect(hop.head.headers["age"] == ["0"] && hop.head.headers["content-length"] == ["3"])
        await client.close()
        await CacheTests.stop(proxy, origin)
    }

    @Test func pipelinedHitsAndAHeadOfAChunkedAnswerStayInStep() async throws {
        let (proxy, origin, _) = try await CacheTests.start()
        origin.set("/c", [("Cache-Control", "max-age=60")], body: "cached")
        origin.set("/chunk", ScriptedOrigin.Answer(body: "chunked body", chunked: true))
        let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
        _ = try await CacheTests.get(client, "/c")
        let headers: HTTPHeaders = ["host": "cache.test"]
        // A HEAD's answer, with no body and no chunk terminator, between two hits sent as bytes:
        // an answer matched with the wrong request would corrupt every one after it.
        let answers = try await client.send([
            .init(uri: "/c", headers: headers), .init(method: .HEAD, uri: "/chunk", headers: headers),
            .init(uri: "/c", headers: headers), .init(uri: "/chunk", headers: headers),
        ])
        #expect(answers.map(\.status) == [200, 200, 200, 200])
        #expect(answers.map(\.body) == ["cached", "", "cached", "chunked body"])
        #expect(answers[0].head.headers.first(name: "cache-status")?.hasPrefix("Sluice; hit") == true)
        #expect(answers[2].head.headers.first(name: "cache-status")?.hasPrefix("Sluice; hit") == true)
        #expect(answers[1].head.headers["transfer-encoding"] == ["chunked"])
        #expect(!client.isClosed)
        #expect(origin.requests(to: "/c").count == 1)
        await client.close()
        await CacheTests.stop(proxy, origin)
    }
}
