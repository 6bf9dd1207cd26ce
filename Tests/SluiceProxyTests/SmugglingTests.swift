import NIOCore
import Testing
@testable import SluiceProxy

/// RFC 9112 request smuggling: every ambiguous request gets 400 and a closed connection, and
/// nothing of it reaches the backend.
@Suite struct SmugglingTests {
    static let cases: [(name: String, request: String)] = [
        ("content-length and transfer-encoding", "POST /sink HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("two content-length headers", "POST /sink HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"),
        ("two equal content-length headers", "POST /sink HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd"),
        ("content-length list", "POST /sink HTTP/1.1\r\nHost: t\r\nContent-Length: 4, 4\r\n\r\nabcd"),
        ("invalid content-length", "POST /sink HTTP/1.1\r\nHost: t\r\nContent-Length: 4x\r\n\r\nabcd"),
        ("negative content-length", "POST /sink HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n"),
        ("last coding not chunked", "POST /sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
        ("transfer-encoding identity", "POST /sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\n"),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n"),
        ("bare LF in head", "GET / HTTP/1.1\nHost: t\n\n"),
        ("bare CR in header value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n"),
        ("space before colon", "GET / HTTP/1.1\r\nHost: t\r\nX-A : b\r\n\r\n"),
        ("invalid chunk size", "POST /sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
        ("invalid chunk extension", "POST /sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;\"bad\r\nabc\r\n0\r\n\r\n"),
        ("missing host", "GET / HTTP/1.1\r\n\r\n"),
        ("two host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        ("transfer-encoding in HTTP/1.0", "POST /sink HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ]

    @Test(arguments: cases.indices)
    func ambiguousRequestIsRefusedAndNeverForwarded(index: Int) async throws {
        let (name, request) = Self.cases[index]
        try await withProxy { proxy, backend in
            // A valid request pipelined behind the bad one must not be answered either.
            let result = try await RawClient.exchange(port: proxy.port, sending: [request + "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"], group: testGroup)
            #expect(result.text.hasPrefix("HTTP/1.1 400 Bad Request\r\n") || result.text.hasPrefix("HTTP/1.0 400 Bad Request\r\n"), "\(name): \(result.text)")
            #expect(result.text.contains("connection: close") || result.text.contains("Connection: close"), "\(name)")
            #expect(!result.text.contains("hello from"), "\(name)")
            #expect(result.closedByServer, "\(name)")
            #expect(backend.requestCount == 0, "\(name)")
        }
    }

    @Test func otherCodingsBeforeChunkedAreNotImplemented() async throws {
        try await withProxy { proxy, backend in
            let result = try await RawClient.exchange(
                port: proxy.port,
                sending: ["POST /sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"],
                group: testGroup
            )
            #expect(result.text.hasPrefix("HTTP/1.1 501 Not Implemented\r\n"))
            #expect(result.closedByServer)
            #expect(backend.requestCount == 0)
        }
    }

    @Test func aRefusedRequestDoesNotHarmEarlierPipelinedOnes() async throws {
        try await withProxy { proxy, backend in
            let result = try await RawClient.exchange(
                port: proxy.port,
                sending: ["GET /hello HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"],
                group: testGroup
            )
            #expect(result.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(result.text.contains("hello from backend"))
            #expect(result.text.contains("HTTP/1.1 400 Bad Request\r\n"))
            #expect(result.closedByServer)
            #expect(backend.requestCount == 1)
        }
    }
}
