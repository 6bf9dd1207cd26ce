import Testing
@testable import SluiceConfig

/// `clusters[].http2`: `true`, a mapping (on unless `enabled: false`), and its errors.
@Suite struct ClusterHTTP2ConfigTests {
    static func yaml(_ http2: String) -> String {
        """
        clusters:
          - name: grpc
            backends: [127.0.0.1:9001]
        \(http2.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        routes:
          - cluster: grpc
        """
    }

    @Test func absentIsHTTP1AndTrueTakesTheDefaults() throws {
        #expect(try load(Self.yaml("")).clusters[0].http2 == nil)
        #expect(try load(Self.yaml("http2: true")).clusters[0].http2 == ClusterHTTP2Config())
        #expect(try load(Self.yaml("http2: false")).clusters[0].http2 == nil)
    }

    @Test func aMappingIsOnUnlessItSaysOtherwise() throws {
        let http2 = try #require(try load(Self.yaml("http2:\n  max_concurrent_streams: 8\n  initial_window_size: 1MiB")).clusters[0].http2)
        #expect(http2.maxConcurrentStreams == 8)
        #expect(http2.initialWindowSize == 1024 * 1024)
        #expect(try load(Self.yaml("http2:\n  enabled: false\n  max_concurrent_streams: 8")).clusters[0].http2 == nil)
    }

    @Test func badValuesAreNamedByTheirKeyPath() {
        #expect(issues(Self.yaml("http2:\n  max_concurrent_streams: 0"))
            == ["test.yaml:5: clusters[0].http2.max_concurrent_streams: must be between 1 and 2147483647, got 0"])
        #expect(issues(Self.yaml("http2:\n  initial_window_size: 1KiB"))
            == ["test.yaml:5: clusters[0].http2.initial_window_size: must be at least 16384 bytes, got 1024"])
        #expect(issues(Self.yaml("http2:\n  initial_window_size: 4GiB"))
            == ["test.yaml:5: clusters[0].http2.initial_window_size: expected at most 2147483647 bytes (RFC 9113), got 4294967296"])
        #expect(issues(Self.yaml("http2:\n  max_concurent_streams: 4")).first?.contains("did you mean \"max_concurrent_streams\"") == true)
    }
}
