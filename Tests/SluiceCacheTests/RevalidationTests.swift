import SluiceCache
import Testing

@Suite struct RevalidationTests {
    let lastModified = "Mon, 30 Nov 2026 10:00:00 GMT"

    @Test func theConditionalRequestCarriesEveryStoredValidator() {
        #expect(Revalidation.conditionalFields(for: [("ETag", #"W/"v1""#), ("Last-Modified", lastModified)])
            == [("If-None-Match", #"W/"v1""#), ("If-Modified-Since", lastModified)])
        #expect(Revalidation.conditionalFields(for: ["Last-Modified": lastModified]) == ["If-Modified-Since": lastModified])
        #expect(Revalidation.conditionalFields(for: ["ETag": "not-quoted"]).isEmpty)
    }

    @Test func aStrongETagIn304MustMatchStrongly() {
        #expect(Revalidation.isNotModifiedApplicable(notModified: ["ETag": #""v1""#], stored: ["ETag": #""v1""#]))
        #expect(!Revalidation.isNotModifiedApplicable(notModified: ["ETag": #""v1""#], stored: ["ETag": #"W/"v1""#]))
        #expect(!Revalidation.isNotModifiedApplicable(notModified: ["ETag": #""v2""#], stored: ["ETag": #""v1""#]))
    }

    @Test func aWeakETagIn304MatchesWeakly() {
        #expect(Revalidation.isNotModifiedApplicable(notModified: ["ETag": #"W/"v1""#], stored: ["ETag": #""v1""#]))
        #expect(!Revalidation.isNotModifiedApplicable(notModified: ["ETag": #"W/"v1""#], stored: ["Last-Modified": lastModified]))
    }

    @Test func withoutETagLastModifiedMustBeEqual() {
        #expect(Revalidation.isNotModifiedApplicable(notModified: ["Last-Modified": lastModified], stored: ["Last-Modified": lastModified]))
        #expect(!Revalidation.isNotModifiedApplicable(notModified: ["Last-Modified": date0], stored: ["Last-Modified": lastModified]))
    }

    @Test func a304WithoutValidatorsAppliesOnlyToAResponseWithout() {
        #expect(Revalidation.isNotModifiedApplicable(notModified: ["Date": date0], stored: ["Content-Type": "text/plain"]))
        #expect(!Revalidation.isNotModifiedApplicable(notModified: ["Date": date0], stored: ["ETag": #""v1""#]))
    }

    @Test func a304ReplacesStoredFieldsButNotContentLength() {
        let stored: HeaderFields = [
            ("Content-Length", "10"), ("Cache-Control", "max-age=60"), ("X-Old", "kept"), ("Link", "<a>"), ("link", "<b>"),
        ]
        let notModified: HeaderFields = [("Cache-Control", "max-age=600"), ("Content-Length", "0"), ("Link", "<c>"), ("X-New", "1")]
        #expect(Revalidation.updatedFields(stored: stored, notModified: notModified)
            == [("Content-Length", "10"), ("X-Old", "kept"), ("Cache-Control", "max-age=600"), ("Link", "<c>"), ("X-New", "1")])
    }

    @Test func freshenedResponsesCountFreshnessFromTheValidation() {
        let original = stored([("Cache-Control", "max-age=60"), ("ETag", #""v1""#), ("Content-Length", "10")])
        let notModified: HeaderFields = [("Date", date(100)), ("Cache-Control", "max-age=120"), ("Connection", "close")]
        let freshened = original.freshened(by: notModified, requestTime: t0 + 100, responseTime: t0 + 100)
        #expect(freshened.isFresh(at: t0 + 150))
        #expect(freshened.age(at: t0 + 150) == 50)
        #expect(freshened.headers.first("Content-Length") == "10")
        #expect(!freshened.headers.contains("Connection"))
    }

    @Test func fresheningDropsTheFirstExchangesAge() {
        let original = stored([("Cache-Control", "max-age=60"), ("Age", "50")])
        let freshened = original.freshened(by: ["Date": date(100)], requestTime: t0 + 100, responseTime: t0 + 100)
        #expect(!freshened.headers.contains("Age"))
        #expect(freshened.age(at: t0 + 100) == 0)
        #expect(original.freshened(by: [("Date", date(100)), ("Age", "7")], requestTime: t0 + 100, responseTime: t0 + 100).age(at: t0 + 100) == 7)
    }

    @Test func a304WithoutDateIsDatedOnArrival() {
        let original = stored(["Cache-Control": "max-age=60"])
        let freshened = original.freshened(by: [:], requestTime: t0 + 500, responseTime: t0 + 500)
        #expect(freshened.headers.first("Date") == date(500))
        #expect(freshened.isFresh(at: t0 + 530))
    }

    @Test func ifNoneMatchUsesWeakComparison() {
        let entry = stored([("ETag", #"W/"v1""#), ("Cache-Control", "max-age=60")])
        let answer = Revalidation.answer(method: "GET", request: ["If-None-Match": #""x", "v1""#], stored: entry)
        #expect(answer == .notModified([("ETag", #"W/"v1""#), ("Cache-Control", "max-age=60"), ("Date", date0)]))
    }

    @Test func ifNoneMatchAsteriskMatchesAnyStoredResponse() {
        #expect(Revalidation.answer(method: "HEAD", request: ["If-None-Match": "*"], stored: stored([:])) != .full)
    }

    @Test func ifNoneMatchDecidesEvenWhenIfModifiedSinceWouldMatch() {
        let entry = stored([("ETag", #""v2""#), ("Last-Modified", lastModified)])
        let request: HeaderFields = [("If-None-Match", #""v1""#), ("If-Modified-Since", date0)]
        #expect(Revalidation.answer(method: "GET", request: request, stored: entry) == .full)
    }

    @Test func ifModifiedSinceComparesWithLastModifiedThenDate() {
        let entry = stored(["Last-Modified": lastModified])
        #expect(Revalidation.answer(method: "GET", request: ["If-Modified-Since": lastModified], stored: entry) != .full)
        #expect(Revalidation.answer(method: "GET", request: ["If-Modified-Since": "Sun, 29 Nov 2026 10:00:00 GMT"], stored: entry) == .full)
        #expect(Revalidation.answer(method: "GET", request: ["If-Modified-Since": date0], stored: stored([:])) != .full)
        #expect(Revalidation.answer(method: "GET", request: ["If-Modified-Since": date(-1)], stored: stored([:])) == .full)
    }

    @Test func anInvalidIfModifiedSinceIsIgnored() {
        #expect(Revalidation.answer(method: "GET", request: ["If-Modified-Since": "soon"], stored: stored([:])) == .full)
    }

    @Test func onlyStored200sToGetOrHeadAreAnsweredWith304() {
        let request: HeaderFields = ["If-None-Match": "*"]
        #expect(Revalidation.answer(method: "GET", request: request, stored: stored([:], status: 404)) == .full)
        #expect(Revalidation.answer(method: "POST", request: request, stored: stored([:])) == .full)
    }

    @Test func the304CarriesTheFieldsA200WouldNeed() {
        let fields: HeaderFields = [
            ("Content-Type", "text/html"), ("Cache-Control", "max-age=60"), ("Content-Location", "/a"), ("Date", date0),
            ("Expires", date(60)), ("Vary", "Accept"), ("Last-Modified", lastModified), ("Set-Cookie", "a=b"),
        ]
        #expect(Revalidation.notModifiedFields(fields) == HeaderFields(fields.fields.filter { !["Content-Type", "Set-Cookie"].contains($0.name) }))
        #expect(!Revalidation.notModifiedFields(fields + [("ETag", #""v""#)]).contains("Last-Modified"))
    }

    @Test func entityTagListsMayHoldCommasAndRejectJunk() {
        #expect(EntityTag.list(#""a,b", W/"c""#) == [EntityTag(opaqueTag: "a,b"), EntityTag(opaqueTag: "c", isWeak: true)])
        #expect(EntityTag.list(#""a" x"#) == nil)
        #expect(EntityTag(#"W/"v1""#)?.fieldValue == #"W/"v1""#)
        #expect(EntityTag("v1") == nil)
    }
}
