import NIOHTTP1
import SluiceConfig
import Testing
@testable import SluiceProxy

@Suite struct RequestValidationTests {
    private func framing(_ headers: [(String, String)], version: HTTPVersion = .http1_1, limits: Limits = Limits()) -> Result<BodyFraming, Rejection> {
        RequestValidation.framing(of: HTTPRequestHead(version: version, method: .POST, uri: "/", headers: HTTPHeaders(headers)), limits: limits)
    }

    @Test func framingIsDecidedFromTheHead() throws {
        #expect(try framing([("host", "a")]).get() == .none)
        #expect(try framing([("host", "a"), ("content-length", "0")]).get() == .none)
        #expect(try framing([("host", "a"), ("content-length", " 42 ")]).get() == .length(42))
        #expect(try framing([("host", "a"), ("transfer-encoding", "Chunked")]).get() == .chunked)
        #expect(try framing([], version: .http1_0).get() == .none)
    }

    @Test func ambiguousFramingIsRefused() {
        let cases: [[(String, String)]] = [
            [("host", "a"), ("content-length", "1"), ("transfer-encoding", "chunked")],
            [("host", "a"), ("content-length", "1"), ("content-length", "1")],
            [("host", "a"), ("content-length", "1,2")],
            [("host", "a"), ("content-length", "+1")],
            [("host", "a"), ("content-length", "99999999999999999999")],
            [("host", "a"), ("transfer-encoding", "chunked, identity")],
            [("host", "a"), ("transfer-encoding", "chunked"), ("transfer-encoding", "gzip")],
            [],
            [("host", "a"), ("host", "b")],
        ]
        for headers in cases {
            guard case .failure(let rejection) = framing(headers) else {
                Issue.record("accepted \(headers)")
                continue
            }
            #expect(rejection.status == .badRequest, "\(headers)")
            #expect(rejection.close)
        }
    }

    @Test func headLimits() {
        var limits = Limits()
        limits.maxHeaderCount = 2
        guard case .failure(let tooMany) = framing([("host", "a"), ("x", "1"), ("y", "2")], limits: limits) else {
            Issue.record("accepted too many headers")
            return
        }
        #expect(tooMany.status == .requestHeaderFieldsTooLarge)
        limits = Limits()
        limits.maxURIBytes = 16
        let long = RequestValidation.framing(of: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/" + String(repeating: "a", count: 16), headers: ["host": "a"]), limits: limits)
        #expect(long == .failure(Rejection(status: .uriTooLong, reason: "request URI longer than 16 bytes", close: true)))
    }
}

@Suite struct HeaderRewritingTests {
    private let policy = HeaderPolicy()

    @Test func hopByHopAndConnectionNamedHeadersGo() {
        let upstream = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["connection": "close, X-Secret", "x-secret": "1", "keep-alive": "5", "x-kept": "yes", "upgrade": "h2c"])
        let out = HeaderRewriting.clientHead(from: upstream, requestVersion: .http1_1, keepAlive: true, policy: HeaderPolicy(via: ""), requestID: "r")
        #expect(out.headers.map(\.name) == ["x-kept", "X-Request-Id"])
    }

    @Test func upstreamHeadSetsFramingAndForwarding() {
        let head = HTTPRequestHead(version: .http1_0, method: .PUT, uri: "/u", headers: ["host": "h.test", "content-length": "3", "expect": "100-continue"])
        let out = HeaderRewriting.upstreamHead(from: head, framing: .length(3), peer: ClientPeer(ip: "::1", isTrusted: false), policy: policy, requestID: "rid", backendAddress: "b:1")
        #expect(out.version == .http1_1)
        #expect(out.headers["content-length"] == ["3"])
        #expect(out.headers["expect"].isEmpty)
        #expect(out.headers["x-forwarded-for"] == ["::1"])
        #expect(out.headers["forwarded"] == ["for=\"[::1]\";host=h.test;proto=http"])
        #expect(out.headers["via"] == ["1.0 sluice"])
        #expect(out.headers["x-request-id"] == ["rid"])
    }

    @Test func chunkedRequestsStayChunkedUpstream() {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: ["host": "h", "transfer-encoding": "chunked"])
        let out = HeaderRewriting.upstreamHead(from: head, framing: .chunked, peer: ClientPeer(ip: "1.2.3.4", isTrusted: false), policy: policy, requestID: "r", backendAddress: "b:1")
        #expect(out.headers["transfer-encoding"] == ["chunked"])
        #expect(out.headers["content-length"].isEmpty)
    }

    @Test func clientHeadDropsUpstreamFramingAndAddsConnectionClose() {
        let upstream = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["transfer-encoding": "chunked", "connection": "keep-alive", "x-a": "1"])
        let out = HeaderRewriting.clientHead(from: upstream, requestVersion: .http1_1, keepAlive: false, policy: policy, requestID: "r")
        #expect(out.headers["transfer-encoding"].isEmpty)
        #expect(out.headers["connection"] == ["close"])
        #expect(out.headers["x-a"] == ["1"])
        #expect(out.headers["x-request-id"] == ["r"])
        let keep = HeaderRewriting.clientHead(from: upstream, requestVersion: .http1_0, keepAlive: true, policy: policy, requestID: "r")
        #expect(keep.headers["connection"] == ["keep-alive"])
        #expect(keep.version == .http1_0)
    }

    @Test func connectionCannotStripHostAndUnderscoreNamesAreDropped() {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["host": "h.test", "connection": "close, host", "x_forwarded_for": "6.6.6.6"])
        let out = HeaderRewriting.upstreamHead(from: head, framing: .none, peer: ClientPeer(ip: "1.2.3.4", isTrusted: false), policy: policy, requestID: "r", backendAddress: "b:1")
        #expect(out.headers["host"] == ["h.test"])
        #expect(out.headers["x_forwarded_for"].isEmpty)
        #expect(out.headers["x-forwarded-for"] == ["1.2.3.4"])
    }

    @Test func http10WithoutHostGetsTheBackendAsHost() {
        let head = HTTPRequestHead(version: .http1_0, method: .GET, uri: "/", headers: [:])
        let out = HeaderRewriting.upstreamHead(from: head, framing: .none, peer: ClientPeer(ip: "1.2.3.4", isTrusted: false), policy: policy, requestID: "r", backendAddress: "10.0.0.1:80")
        #expect(out.headers["host"] == ["10.0.0.1:80"])
    }

    @Test func trailersLoseFramingAndHopByHopFields() {
        #expect(HeaderRewriting.trailers(nil) == nil)
        let kept: HTTPHeaders = ["x-checksum": "1"]
        #expect(HeaderRewriting.trailers(kept) == kept)
        let mixed: HTTPHeaders = ["x-checksum": "1", "content-length": "5", "Host": "evil", "transfer-encoding": "chunked"]
        #expect(HeaderRewriting.trailers(mixed) == ["x-checksum": "1"])
        #expect(HeaderRewriting.trailers(["connection": "close"]) == nil)
    }

    @Test func viaCanBeDisabled() {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["host": "h"])
        let out = HeaderRewriting.upstreamHead(from: head, framing: .none, peer: ClientPeer(ip: "1.2.3.4", isTrusted: false), policy: HeaderPolicy(via: ""), requestID: "r", backendAddress: "b:1")
        #expect(out.headers["via"].isEmpty)
    }
}

@Suite struct AccessLogFormatTests {
    @Test func jsonEscapesAndKeepsOneLine() {
        let entry = AccessLogEntry(client: "1.2.3.4", method: "GET", path: "/a\"b\\c\n\u{01}", status: 200, bytesIn: 1, bytesOut: 2,
                                   durationNanos: 1_234_567, upstream: nil, upstreamNanos: nil, requestID: "r", route: nil, error: nil)
        let line = AccessLog.json(entry, time: "T")
        #expect(line == "{\"time\":\"T\",\"client\":\"1.2.3.4\",\"method\":\"GET\",\"path\":\"/a\\\"b\\\\c\\n\\u0001\",\"status\":200,\"bytes_in\":1,\"bytes_out\":2,\"duration_ms\":1.234,\"upstream\":null,\"upstream_ms\":null,\"request_id\":\"r\",\"trace_id\":null,\"route\":null}")
    }

    @Test func timestampIsRFC3339UTC() {
        let stamp = AccessLog.timestamp()
        #expect(stamp.utf8.count == 24)
        #expect(stamp.hasSuffix("Z"))
        #expect(Array(stamp)[10] == "T")
    }
}
