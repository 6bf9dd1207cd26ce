import SluiceCache
import Testing

@Suite struct ServeDecisionTests {
    let validators: HeaderFields = [("ETag", #""v1""#), ("Last-Modified", "Mon, 30 Nov 2026 10:00:00 GMT")]

    func decide(
        _ response: HeaderFields,
        request: HeaderFields = [:],
        at seconds: Int64,
        originFailing: Bool = false,
        policy: CachePolicy = CachePolicy()
    ) -> ServeDecision {
        ServeDecision.decide(stored: stored(response, policy: policy), request: request, now: t0 + seconds, originFailing: originFailing, policy: policy)
    }

    func reuse(age: Int64, ttl: Int64, omitting fields: [String] = []) -> ServeDecision.Reuse {
        ServeDecision.Reuse(age: age, timeToLive: ttl, omittedFields: fields)
    }

    @Test func aFreshResponseIsServedWithItsAge() {
        #expect(decide(["Cache-Control": "max-age=60"], at: 30) == .fresh(reuse(age: 30, ttl: 30)))
    }

    @Test func aStaleResponseIsRevalidatedWithItsValidators() {
        let response = validators + [("Cache-Control", "max-age=60")]
        let conditional: HeaderFields = [("If-None-Match", #""v1""#), ("If-Modified-Since", "Mon, 30 Nov 2026 10:00:00 GMT")]
        #expect(decide(response, at: 61) == .revalidate(.stale, conditional: conditional))
    }

    @Test func aStaleResponseWithoutValidatorsMustBeFetched() {
        #expect(decide(["Cache-Control": "max-age=60"], at: 61) == .mustFetch(.stale))
    }

    @Test func requestMaxAgeRejectsAnOlderResponse() {
        let response: HeaderFields = ["Cache-Control": "max-age=600"]
        #expect(decide(response, request: ["Cache-Control": "max-age=20"], at: 30) == .mustFetch(.request))
        #expect(decide(response, request: ["Cache-Control": "max-age=40"], at: 30) == .fresh(reuse(age: 30, ttl: 570)))
    }

    @Test func minFreshWantsThatMuchFreshnessLeft() {
        let response: HeaderFields = ["Cache-Control": "max-age=60"]
        #expect(decide(response, request: ["Cache-Control": "min-fresh=40"], at: 30) == .mustFetch(.request))
        #expect(decide(response, request: ["Cache-Control": "min-fresh=20"], at: 30) == .fresh(reuse(age: 30, ttl: 30)))
    }

    @Test func maxStaleAcceptsThatMuchStaleness() {
        let response: HeaderFields = ["Cache-Control": "max-age=60"]
        let request: HeaderFields = ["Cache-Control": "max-stale=10"]
        #expect(decide(response, request: request, at: 65) == .staleAllowedByRequest(reuse(age: 65, ttl: -5)))
        #expect(decide(response, request: request, at: 80) == .mustFetch(.stale))
    }

    @Test func maxStaleWithoutAValueAcceptsAnyStaleness() {
        #expect(decide(["Cache-Control": "max-age=60"], request: ["Cache-Control": "max-stale"], at: 86_400)
            == .staleAllowedByRequest(reuse(age: 86_400, ttl: 60 - 86_400)))
    }

    @Test func mustRevalidateForbidsMaxStale() {
        let response = validators + [("Cache-Control", "max-age=60, must-revalidate")]
        #expect(decide(response, request: ["Cache-Control": "max-stale"], at: 65) == .revalidate(.stale, conditional: Revalidation.conditionalFields(for: response)))
    }

    @Test func proxyRevalidateAndSMaxageForbidStaleInASharedCacheOnly() {
        let request: HeaderFields = ["Cache-Control": "max-stale"]
        #expect(decide(["Cache-Control": "max-age=60, proxy-revalidate"], request: request, at: 65) == .mustFetch(.stale))
        #expect(decide(["Cache-Control": "s-maxage=60"], request: request, at: 65) == .mustFetch(.stale))
        let privateCache = CachePolicy(isShared: false)
        #expect(decide(["Cache-Control": "max-age=60, proxy-revalidate"], request: request, at: 65, policy: privateCache)
            == .staleAllowedByRequest(reuse(age: 65, ttl: -5)))
    }

    @Test func requestNoCacheRevalidatesEvenAFreshResponse() {
        #expect(decide(validators + [("Cache-Control", "max-age=60")], request: ["Cache-Control": "no-cache"], at: 10)
            == .revalidate(.request, conditional: Revalidation.conditionalFields(for: validators)))
    }

    @Test func responseNoCacheRevalidatesEveryReuse() {
        #expect(decide(validators + [("Cache-Control", "max-age=600, no-cache")], at: 1)
            == .revalidate(.stale, conditional: Revalidation.conditionalFields(for: validators)))
    }

    @Test func responseNoCacheWithFieldNamesServesWithoutThoseFields() {
        #expect(decide(["Cache-Control": #"max-age=60, no-cache="Set-Cookie""#], at: 10) == .fresh(reuse(age: 10, ttl: 50, omitting: ["set-cookie"])))
    }

    @Test func immutableSkipsAReloadButNotAForcedOne() {
        let response: HeaderFields = ["Cache-Control": "max-age=31536000, immutable"]
        #expect(decide(response, request: ["Cache-Control": "max-age=0"], at: 10) == .fresh(reuse(age: 10, ttl: 31_535_990)))
        #expect(decide(response, request: ["Cache-Control": "no-cache"], at: 10) == .mustFetch(.request))
    }

    @Test func staleWhileRevalidateServesStaleWithinItsWindow() {
        let response: HeaderFields = ["Cache-Control": "max-age=60, stale-while-revalidate=30"]
        #expect(decide(response, at: 90) == .staleWhileRevalidate(reuse(age: 90, ttl: -30)))
        #expect(decide(response, at: 91) == .mustFetch(.stale))
    }

    @Test func staleWhileRevalidateDoesNotServeARequestAskingForFreshness() {
        let response: HeaderFields = ["Cache-Control": "max-age=60, stale-while-revalidate=30"]
        #expect(decide(response, request: ["Cache-Control": "max-age=300"], at: 70) == .mustFetch(.stale))
    }

    @Test func staleIfErrorServesStaleOnlyWhileTheOriginFails() {
        let response: HeaderFields = ["Cache-Control": "max-age=60, stale-if-error=300"]
        #expect(decide(response, at: 200) == .mustFetch(.stale))
        #expect(decide(response, at: 200, originFailing: true) == .staleIfError(reuse(age: 200, ttl: -140)))
        #expect(decide(response, at: 361, originFailing: true) == .mustFetch(.stale))
    }

    @Test func originFailuresAre500502503And504() {
        #expect([500, 501, 502, 503, 504, 505, 404].filter(ServeDecision.isOriginFailure) == [500, 502, 503, 504])
    }

    @Test func staleIfErrorMayComeFromTheRequest() {
        #expect(decide(["Cache-Control": "max-age=60"], request: ["Cache-Control": "stale-if-error=100"], at: 100, originFailing: true)
            == .staleIfError(reuse(age: 100, ttl: -40)))
    }

    @Test func staleIfErrorByDefaultIsTheOperatorsContract() {
        let policy = CachePolicy(staleIfErrorByDefault: 600)
        #expect(decide(["Cache-Control": "max-age=60"], at: 600, originFailing: true, policy: policy) == .staleIfError(reuse(age: 600, ttl: -540)))
        #expect(decide(["Cache-Control": "max-age=60"], at: 600, originFailing: true) == .mustFetch(.stale))
    }

    @Test func mustRevalidateForbidsStaleIfErrorAndStaleWhileRevalidate() {
        let response: HeaderFields = ["Cache-Control": "max-age=60, must-revalidate, stale-if-error=300, stale-while-revalidate=300"]
        #expect(decide(response, at: 70, originFailing: true) == .mustFetch(.stale))
    }

    @Test func onlyIfCachedServesWhatIsUsableAndOtherwiseMisses() {
        let request: HeaderFields = ["Cache-Control": "only-if-cached"]
        #expect(decide(validators + [("Cache-Control", "max-age=60")], request: request, at: 10) == .fresh(reuse(age: 10, ttl: 50)))
        #expect(decide(validators + [("Cache-Control", "max-age=60")], request: request, at: 61) == .onlyIfCachedMiss)
        #expect(decide(["Cache-Control": "max-age=60, no-cache"], request: request, at: 1) == .onlyIfCachedMiss)
    }

    @Test func aHeuristicLifetimeServesLikeAnExplicitOne() {
        #expect(decide(["Last-Modified": date(-36_000)], at: 3_599) == .fresh(reuse(age: 3_599, ttl: 1)))
    }
}
