import SluiceCache
import Testing

@Suite struct CacheStatusTests {
    @Test func aHitReportsItsTimeToLive() {
        #expect(CacheStatus(hit: true, timeToLive: 30).fieldValue == "Sluice; hit; ttl=30")
    }

    @Test func aStaleHitHasANegativeTimeToLive() {
        #expect(CacheStatus(hit: true, timeToLive: -5).fieldValue == "Sluice; hit; ttl=-5")
    }

    @Test func aStoredMissSaysWhyItWasForwarded() {
        #expect(CacheStatus(forward: .uriMiss, stored: true).fieldValue == "Sluice; fwd=uri-miss; stored")
        #expect(CacheStatus(forward: .miss, stored: true).fieldValue == "Sluice; fwd=miss; stored")
        #expect(CacheStatus(forward: .varyMiss).fieldValue == "Sluice; fwd=vary-miss")
        #expect(CacheStatus(forward: .request).fieldValue == "Sluice; fwd=request")
    }

    @Test func aRevalidationReportsTheOriginsStatus() {
        #expect(CacheStatus(forward: .stale, forwardStatus: 304, timeToLive: 60).fieldValue == "Sluice; fwd=stale; fwd-status=304; ttl=60")
    }

    @Test func parametersFollowRFC9211sOrder() {
        let status = CacheStatus(hit: true, timeToLive: 1, collapsed: true, key: "https://a.example/", detail: "mem")
        #expect(status.fieldValue == #"Sluice; hit; ttl=1; collapsed; key="https://a.example/"; detail=mem"#)
    }

    @Test func detailIsATokenWhenItCanBeAndAStringOtherwise() {
        #expect(CacheStatus(forward: .miss, detail: "no-store").fieldValue == "Sluice; fwd=miss; detail=no-store")
        #expect(CacheStatus(forward: .miss, detail: "origin said \"no\"").fieldValue == #"Sluice; fwd=miss; detail="origin said \"no\"""#)
        #expect(CacheStatus(detail: "9lives").fieldValue == #"Sluice; detail="9lives""#)
    }

    @Test func theCacheNameIsQuotedWhenNotAToken() {
        #expect(CacheStatus(cacheName: "edge-1.fra:cache/v2", hit: true).fieldValue == "edge-1.fra:cache/v2; hit")
        #expect(CacheStatus(cacheName: "Sluice Edge", hit: true).fieldValue == #""Sluice Edge"; hit"#)
        #expect(CacheStatus(cacheName: #"a\b"#, hit: true).fieldValue == #""a\\b"; hit"#)
        #expect(CacheStatus(cacheName: "café", hit: true).fieldValue == #""caf?"; hit"#)
    }

    @Test func thisCacheIsAppendedAfterTheUpstreamCaches() {
        let status = CacheStatus(forward: .stale, forwardStatus: 200)
        #expect(status.appended(to: "OriginCache; hit; ttl=1100") == "OriginCache; hit; ttl=1100, Sluice; fwd=stale; fwd-status=200")
        #expect(status.appended(to: nil) == "Sluice; fwd=stale; fwd-status=200")
        #expect(status.appended(to: "  ") == "Sluice; fwd=stale; fwd-status=200")
    }
}
