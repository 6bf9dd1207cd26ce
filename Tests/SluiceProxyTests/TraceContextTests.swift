import NIOHTTP1
import SluiceBalancing
import Testing
@testable import SluiceProxy

/// W3C traceparent: what counts as valid, and what a backend and the access log see.
@Suite struct TraceContextTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func parsesOnlyWellFormedValues() {
        #expect(TraceContext.parse(Self.valid)! == ("4bf92f3577b34da6a3ce929d0e0e4736", "01"))
        // A later version is read as 00, extra fields after a dash allowed.
        #expect(TraceContext.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra")?.1 == "00")
        for bad in [
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // 00 has no extra fields
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",   // short
            "", "garbage",
        ] {
            #expect(TraceContext.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func continuesAValidTraceAndStartsOtherwise() {
        var random = SplitMix64(seed: 3)
        let continued = TraceContext(["traceparent": Self.valid, "tracestate": "a=1"], random: &random)
        #expect(continued.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" && continued.flags == "01" && continued.state == "a=1")
        #expect(continued.spanID != "00f067aa0ba902b7" && continued.spanID.utf8.count == 16)
        #expect(TraceContext.parse(continued.traceparent)! == ("4bf92f3577b34da6a3ce929d0e0e4736", "01"))
        // Invalid or repeated traceparent: a new trace, and its tracestate is not trusted.
        for headers: HTTPHeaders in [["traceparent": "bogus", "tracestate": "a=1"], ["traceparent": Self.valid, "TraceParent": Self.valid], [:]] {
            let started = TraceContext(headers, random: &random)
            #expect(started.traceID != "4bf92f3577b34da6a3ce929d0e0e4736" && started.flags == "00" && started.state == nil)
            #expect(TraceContext.parse(started.traceparent) != nil)
        }
    }

    @Test func theBackendAndTheAccessLogSeeTheTrace() async throws {
        try await withProxy { proxy, _ in
            let client = try await HTTPTestClient.connect(port: proxy.port, group: testGroup)
            let continued = try #require(try await client.get("/headers", headers: ["host": "t", "traceparent": Self.valid, "tracestate": "vendor=x"]))
            #expect(continued.body.contains("traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-"))
            #expect(!continued.body.contains("00f067aa0ba902b7"))  // Sluice's hop has its own span id
            #expect(continued.body.contains("tracestate: vendor=x"))
            let started = try #require(try await client.get("/headers", headers: ["host": "t"]))
            let line = try #require(started.body.split(separator: "\n").first { $0.hasPrefix("traceparent: ") })
            let (trace, flags) = try #require(TraceContext.parse(String(line.dropFirst("traceparent: ".count))))
            #expect(flags == "00")
            await client.close()
            #expect(await eventually { proxy.accessLog.all.contains { $0.contains("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"") } })
            #expect(proxy.accessLog.all.contains { $0.contains("\"trace_id\":\"\(trace)\"") })
        }
    }
}
