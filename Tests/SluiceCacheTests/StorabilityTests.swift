import SluiceCache
import Testing

@Suite struct StorabilityTests {
    func evaluate(
        _ response: HeaderFields,
        method: String = "GET",
        request: HeaderFields = [:],
        status: Int = 200,
        policy: CachePolicy = CachePolicy()
    ) -> Storability {
        Storability.evaluate(method: method, request: request, status: status, response: response, policy: policy)
    }

    @Test func aGetWithMaxAgeIsStorable() {
        #expect(evaluate(["Cache-Control": "max-age=60"]) == .storable)
    }

    @Test func onlyGetAndHeadAreStored() {
        #expect(evaluate(["Cache-Control": "max-age=60"], method: "HEAD") == .storable)
        #expect(evaluate(["Cache-Control": "max-age=60"], method: "POST") == .notStorable(.method))
        #expect(evaluate(["Cache-Control": "max-age=60"], method: "get") == .notStorable(.method))
    }

    @Test func interimResponsesAreNotStored() {
        #expect(evaluate(["Cache-Control": "max-age=60"], status: 103) == .notStorable(.interimStatus))
    }

    @Test func requestNoStoreForbidsStoring() {
        #expect(evaluate(["Cache-Control": "max-age=60"], request: ["Cache-Control": "no-store"]) == .notStorable(.requestNoStore))
    }

    @Test func responseNoStoreForbidsStoring() {
        #expect(evaluate(["Cache-Control": "max-age=60, no-store"]) == .notStorable(.responseNoStore))
    }

    @Test func mustUnderstandWithAnUnderstoodStatusIgnoresNoStore() {
        #expect(evaluate(["Cache-Control": "must-understand, no-store, max-age=60"]) == .storable)
    }

    @Test func mustUnderstandWithAnUnknownStatusIsNotStored() {
        #expect(evaluate(["Cache-Control": "must-understand, no-store, max-age=60"], status: 299) == .notStorable(.statusNotUnderstood))
    }

    @Test func anUnknownStatusWithExplicitFreshnessIsStorable() {
        // §3 asks a cache to understand only 206, 304 and must-understand statuses.
        #expect(evaluate(["Cache-Control": "max-age=60"], status: 299) == .storable)
    }

    @Test func partialContentPassesThrough() {
        #expect(evaluate(["Cache-Control": "max-age=60"], status: 206) == .notStorable(.partialContent))
    }

    @Test func notModifiedIsNeverStoredOnItsOwn() {
        #expect(evaluate(["Cache-Control": "max-age=60"], status: 304) == .notStorable(.statusNotUnderstood))
    }

    @Test func privateForbidsASharedCache() {
        #expect(evaluate(["Cache-Control": "private, max-age=60"]) == .notStorable(.privateResponse))
        #expect(evaluate(["Cache-Control": "private"], policy: CachePolicy(isShared: false)) == .storable)
    }

    @Test func privateWithFieldNamesIsStorable() {
        #expect(evaluate(["Cache-Control": #"private="Set-Cookie", max-age=60"#]) == .storable)
    }

    @Test func authorizationForbidsSharingUnlessTheResponseAllowsIt() {
        let request: HeaderFields = ["Authorization": "Bearer abc"]
        #expect(evaluate(["Cache-Control": "max-age=60"], request: request) == .notStorable(.authorization))
        for allowing in ["public", "must-revalidate, max-age=60", "s-maxage=60"] {
            #expect(evaluate(["Cache-Control": allowing], request: request) == .storable, "\(allowing)")
        }
        #expect(evaluate(["Cache-Control": "max-age=60"], request: request, policy: CachePolicy(isShared: false)) == .storable)
    }

    @Test func varyAsteriskIsNotStored() {
        #expect(evaluate([("Cache-Control", "max-age=60"), ("Vary", "Accept, *")]) == .notStorable(.varyAsterisk))
    }

    @Test func aDefaultCacheableStatusNeedsNoExplicitFreshness() {
        for status in [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501] {
            #expect(evaluate([:], status: status) == .storable, "\(status)")
        }
    }

    @Test func otherStatusesNeedExplicitFreshness() {
        #expect(evaluate([:], status: 302) == .notStorable(.notCacheable))
        #expect(evaluate(["Last-Modified": date0], status: 500) == .notStorable(.notCacheable))
        #expect(evaluate(["Cache-Control": "max-age=60"], status: 302) == .storable)
        #expect(evaluate(["Expires": "0"], status: 302) == .storable)
        #expect(evaluate(["Cache-Control": "public"], status: 307) == .storable)
        #expect(evaluate(["Cache-Control": "s-maxage=5"], status: 503) == .storable)
    }

    @Test func reasonsAreCacheStatusDetailTokens() {
        for reason in NotStorableReason.allCases {
            #expect(CacheStatus(detail: reason.rawValue).fieldValue == "Sluice; detail=\(reason.rawValue)")
        }
    }
}
