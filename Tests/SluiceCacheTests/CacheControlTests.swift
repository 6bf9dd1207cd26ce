import SluiceCache
import Testing

@Suite struct CacheControlTests {
    @Test func readsEveryResponseDirective() {
        let directives = CacheControl(parsing: """
            max-age=60, s-maxage=120, public, must-revalidate, proxy-revalidate, must-understand, \
            no-store, immutable, stale-while-revalidate=30, stale-if-error=300, no-transform
            """)
        #expect(directives.maxAge == 60)
        #expect(directives.sharedMaxAge == 120)
        #expect(directives.public && directives.mustRevalidate && directives.proxyRevalidate)
        #expect(directives.mustUnderstand && directives.noStore && directives.immutable && directives.noTransform)
        #expect(directives.staleWhileRevalidate == 30)
        #expect(directives.staleIfError == 300)
        #expect(directives.noCache == nil && directives.private == nil)
    }

    @Test func readsEveryRequestDirective() {
        let directives = CacheControl(parsing: "max-age=0, max-stale=10, min-fresh=5, no-cache, no-store, only-if-cached")
        #expect(directives.maxAge == 0)
        #expect(directives.maxStale == .seconds(10))
        #expect(directives.minFresh == 5)
        #expect(directives.noCache == .wholeResponse)
        #expect(directives.noStore && directives.onlyIfCached)
    }

    @Test func maxStaleWithoutAValueAcceptsAnyStaleness() {
        #expect(CacheControl(parsing: "max-stale").maxStale == .unlimited)
        #expect(CacheControl(parsing: "max-stale=abc").maxStale == .seconds(0))
    }

    @Test func directiveNamesAreCaseInsensitive() {
        let directives = CacheControl(parsing: "MAX-AGE=60, No-Store, Private")
        #expect(directives.maxAge == 60)
        #expect(directives.noStore)
        #expect(directives.private == .wholeResponse)
    }

    @Test func aQuotedArgumentKeepsItsCommas() {
        let directives = CacheControl(parsing: #"no-cache="Set-Cookie, X-Token", max-age=5"#)
        #expect(directives.noCache == .fields(["set-cookie", "x-token"]))
        #expect(directives.maxAge == 5)
    }

    @Test func aTokenArgumentNamesOneField() {
        #expect(CacheControl(parsing: "private=Authorization-Info").private == .fields(["authorization-info"]))
    }

    @Test func quotedDeltaSecondsAreAccepted() {
        #expect(CacheControl(parsing: #"max-age="30""#).maxAge == 30)
    }

    @Test func anInvalidMaxAgeMeansStale() {
        for value in ["max-age=abc", "max-age=-1", "max-age", "max-age=1.5", "max-age=", "max-age=+5"] {
            #expect(CacheControl(parsing: value).maxAge == 0, "\(value)")
        }
    }

    @Test func deltaSecondsOverflowClampsTo2Pow31() {
        let directives = CacheControl(parsing: "max-age=99999999999999999999999, s-maxage=2147483649")
        #expect(directives.maxAge == 2_147_483_648)
        #expect(directives.sharedMaxAge == 2_147_483_648)
    }

    @Test func aRepeatedDirectiveKeepsItsFirstOccurrence() {
        #expect(CacheControl(parsing: "max-age=60, max-age=0").maxAge == 60)
        #expect(CacheControl(parsing: "max-stale=5, max-stale").maxStale == .seconds(5))
    }

    @Test func everyLineIsPartOfOneList() {
        let directives = CacheControl([("Cache-Control", "public"), ("Date", date0), ("cache-control", "max-age=9, max-age=1")])
        #expect(directives.public)
        #expect(directives.maxAge == 9)
    }

    @Test func repeatedFieldListsMergeAndAnUnqualifiedOneCoversAll() {
        #expect(CacheControl(parsing: #"private="a", private="b, A""#).private == .fields(["a", "b"]))
        #expect(CacheControl(parsing: #"no-cache="a", no-cache"#).noCache == .wholeResponse)
        #expect(CacheControl(parsing: #"no-cache, no-cache="a""#).noCache == .wholeResponse)
        #expect(CacheControl(parsing: #"no-cache="""#).noCache == .wholeResponse)
    }

    @Test func unknownDirectivesAndEmptyMembersAreIgnored() {
        let directives = CacheControl(parsing: #" , community="UCI, x", ,max-age = 10 ,, foo "#)
        #expect(directives == { var expected = CacheControl(); expected.maxAge = 10; return expected }())
    }
}
