import SluiceCache
import Testing

@Suite struct FreshnessTests {
    func lifetime(status: Int = 200, _ response: HeaderFields, policy: CachePolicy = CachePolicy()) -> Freshness.Lifetime {
        var response = response
        if !response.contains("Date") { response.append("Date", date0) }
        return Freshness.lifetime(status: status, response: response, responseTime: t0, policy: policy)
    }

    @Test func maxAgeIsFreshUntilItsAgeIsReached() {
        let response = stored(["Cache-Control": "max-age=60"])
        #expect(response.isFresh(at: t0 + 30))
        #expect(response.age(at: t0 + 30) == 30)
        #expect(!response.isFresh(at: t0 + 60))  // fresh only while lifetime > age
        #expect(!response.isFresh(at: t0 + 61))
        #expect(response.timeToLive(at: t0 + 61) == -1)
    }

    @Test func sMaxageBeatsMaxAgeInASharedCache() {
        #expect(lifetime(["Cache-Control": "max-age=60, s-maxage=600"]) == .init(seconds: 600, source: .sharedMaxAge))
        #expect(lifetime(["Cache-Control": "max-age=60, s-maxage=600"], policy: CachePolicy(isShared: false)).seconds == 60)
    }

    @Test func maxAgeBeatsExpires() {
        #expect(lifetime([("Cache-Control", "max-age=60"), ("Expires", date(3_600))]) == .init(seconds: 60, source: .maxAge))
    }

    @Test func expiresCountsFromDate() {
        #expect(lifetime(["Expires": date(120)]) == .init(seconds: 120, source: .expires))
    }

    @Test func expiresInThePastIsStale() {
        #expect(lifetime(["Expires": date(-120)]).seconds == 0)
        #expect(!stored(["Expires": date(-120)]).isFresh(at: t0))
    }

    @Test func anInvalidExpiresIsAlreadyExpired() {
        #expect(lifetime(["Expires": "0"]) == .init(seconds: 0, source: .expires))
        #expect(lifetime(["Expires": "Tue, 01 Dec 2099 10:00:00 UTC"]).seconds == 0)
    }

    @Test func withoutDateExpiresCountsFromTheResponseTime() {
        let response = Freshness.lifetime(status: 200, response: ["Expires": date(100)], responseTime: t0 + 40, policy: CachePolicy())
        #expect(response.seconds == 60)
    }

    @Test func theHeuristicIsTenPercentOfTheTimeSinceLastModified() {
        #expect(lifetime(["Last-Modified": date(-36_000)]) == .init(seconds: 3_600, source: .heuristic))
    }

    @Test func theHeuristicIsCappedAtADayByDefault() {
        #expect(lifetime(["Last-Modified": date(-365 * 86_400)]).seconds == 86_400)
        #expect(lifetime(["Last-Modified": date(-365 * 86_400)], policy: CachePolicy(maxHeuristicLifetime: 600)).seconds == 600)
    }

    @Test func theHeuristicAppliesOnlyToDefaultCacheableStatusesOrPublic() {
        #expect(lifetime(status: 302, ["Last-Modified": date(-36_000)]) == .init(seconds: 0, source: .none))
        #expect(lifetime(status: 302, [("Last-Modified", date(-36_000)), ("Cache-Control", "public")]).seconds == 3_600)
    }

    @Test func noExplicitExpiryAndNoLastModifiedMeansNoLifetime() {
        #expect(lifetime([:]) == .init(seconds: 0, source: .none))
        #expect(lifetime(["Last-Modified": date(60)]).seconds == 0)  // modified "after" Date
    }

    @Test func ageAddsTheAgeFieldAndTheResponseDelay() {
        // Sent at t0, answered at t0 + 2 with Age 10 and Date t0: corrected_age_value 12 > apparent_age 2.
        let response = stored([("Date", date0), ("Age", "10"), ("Cache-Control", "max-age=60")], requestTime: t0, responseTime: t0 + 2)
        #expect(response.correctedInitialAge == 12)
        #expect(response.age(at: t0 + 7) == 17)
    }

    @Test func aDateAheadOfOurClockCountsAsNoApparentAge() {
        let response = stored([("Date", date(100)), ("Age", "3")], requestTime: t0, responseTime: t0 + 1)
        #expect(response.correctedInitialAge == 4)
    }

    @Test func aDateBehindOurClockMakesTheResponseOlder() {
        let response = stored([("Date", date(-50)), ("Age", "10")], requestTime: t0 - 1, responseTime: t0)
        #expect(response.correctedInitialAge == 50)  // max(apparent 50, corrected 10 + 1)
    }

    @Test func anInvalidAgeIsIgnoredAndAListUsesItsFirstMember() {
        #expect(Freshness.ageValue(["Age": "abc"]) == 0)
        #expect(Freshness.ageValue(["Age": "-5"]) == 0)
        #expect(Freshness.ageValue(["Age": "5, 7"]) == 5)
        #expect(Freshness.ageValue([:]) == 0)
    }

    @Test func aMissingOrInvalidDateUsesTheResponseTimeAndIsAddedOnStore() {
        #expect(Freshness.dateValue(["Date": "yesterday"], responseTime: t0) == t0)
        let response = StoredResponse(status: 200, headers: ["Cache-Control": "max-age=60"], requestTime: t0 - 1, responseTime: t0)
        #expect(response.headers.first("Date") == date0)
        #expect(response.age(at: t0) == 1)
    }

    @Test func currentAgeNeverCountsBackwards() {
        #expect(Freshness.currentAge(correctedInitialAge: 5, responseTime: t0, now: t0 - 30) == 5)
    }
}
