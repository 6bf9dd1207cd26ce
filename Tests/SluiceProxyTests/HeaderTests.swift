import Foundation
import NIOCore
import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

/// What the backend receives and what the client gets back, header by header.
@Suite struct HeaderTests {
    private func receivedHeaders(_ response: HTTPTestClient.Response?) -> [String: String] {
        var fields: [String: String] = [:]
        for line in (response?.body ?? "").split(separator: "\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0]), default: ""] += parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return fields
    }

    @Test func hopByHopHeadersAreRemoved() async throws {
        try await withProxy { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let response = try await client.get("/headers", headers: [
                "host": "example.test", "connection": "keep-alive, x-private", "x-private": "secret", "keep-alive": "timeout=5",
                "te": "trailers", "trailer": "x-t", "upgrade": "websocket", "proxy-connection": "keep-alive",
                "proxy-authorization": "Basic Zm9vOmJhcg==", "x-end-to-end": "kept",
            ])
            let fields = receivedHeaders(response)
            for name in ["connection", "x-private", "keep-alive", "te", "trailer", "upgrade", "proxy-connection", "proxy-authorization"] {
                #expect(fields[name] == nil, "\(name) reached the backend")
            }
            #expect(fields["x-end-to-end"] == "kept")
            #expect(fields["host"] == "example.test")
            await client.close()
        }
    }

    @Test func untrustedPeerForwardingHeadersAreReplaced() async throws {
        try await withProxy { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let response = try await client.get("/headers", headers: [
                "host": "example.test:8080", "x-forwarded-for": "6.6.6.6", "x-forwarded-proto": "https",
                "x-forwarded-host": "evil.test", "forwarded": "for=6.6.6.6", "x-request-id": "abc-123",
            ])
            let fields = receivedHeaders(response)
            #expect(fields["x-forwarded-for"] == "127.0.0.1")
            #expect(fields["x-forwarded-proto"] == "http")
            #expect(fields["x-forwarded-host"] == "example.test:8080")
            #expect(fields["forwarded"] == "for=127.0.0.1;host=\"example.test:8080\";proto=http")
            #expect(fields["via"] == "1.1 sluice")
            #expect(fields["x-request-id"] == "abc-123")
            #expect(response?.head.headers["x-request-id"] == ["abc-123"])
            #expect(response?.head.headers["via"] == ["1.1 sluice"])
            await client.close()
        }
    }

    @Test func trustedPeerForwardingHeadersAreAppendedTo() async throws {
        try await withProxy(configure: { config in
            config.headers.trustedProxies = [CIDR("127.0.0.0/8")!]
        }) { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let response = try await client.get("/headers", headers: [
                "host": "example.test", "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https",
                "x-forwarded-host": "public.test", "forwarded": "for=203.0.113.7;proto=https", "via": "1.1 edge",
            ])
            let fields = receivedHeaders(response)
            #expect(fields["x-forwarded-for"] == "203.0.113.7, 127.0.0.1")
            #expect(fields["x-forwarded-proto"] == "https")
            #expect(fields["x-forwarded-host"] == "public.test")
            #expect(fields["forwarded"] == "for=203.0.113.7;proto=https, for=127.0.0.1;host=example.test;proto=http")
            #expect(fields["via"] == "1.1 edge, 1.1 sluice")
            await client.close()
        }
    }

    @Test func requestIDIsGeneratedWhenAbsentAndLogged() async throws {
        try await withProxy { proxy, backend in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let response = try await client.get("/headers")
            let id = try #require(response?.head.headers["x-request-id"].first)
            #expect(id.utf8.count == 32)
            #expect(receivedHeaders(response)["x-request-id"] == id)
            #expect(await eventually { proxy.accessLog.all.contains { $0.contains("\"request_id\":\"\(id)\"") } })
            await client.close()
        }
    }

    @Test func accessLogLineHasEveryField() async throws {
        try await withProxy { proxy, backend in
            _ = try await Curl.run(["--data-binary", "12345", "\(proxy.url)/sink?x=1"])
            #expect(await eventually { !proxy.accessLog.all.isEmpty })
            let line = try #require(proxy.accessLog.all.first)
            for key in ["\"time\":\"", "\"client\":\"127.0.0.1\"", "\"method\":\"POST\"", "\"path\":\"/sink?x=1\"", "\"status\":200",
                        "\"bytes_in\":5", "\"bytes_out\":1", "\"duration_ms\":", "\"upstream\":\"\(backend.address)\"",
                        "\"upstream_ms\":", "\"request_id\":\"", "\"route\":\"all\""] {
                #expect(line.contains(key), "missing \(key) in \(line)")
            }
            #expect(line.hasPrefix("{") && line.hasSuffix("}"))
        }
    }

    @Test func plainAccessLogFormat() async throws {
        try await withProxy(configure: { $0.accessLog.format = .plain }) { proxy, backend in
            _ = try await Curl.run(["\(proxy.url)/hello"])
            #expect(await eventually { !proxy.accessLog.all.isEmpty })
            let line = try #require(proxy.accessLog.all.first)
            #expect(line.hasPrefix("127.0.0.1 ["))
            #expect(line.contains("\"GET /hello\" 200 0 18 "))
            #expect(line.contains("upstream=\(backend.address)"))
        }
    }
}
