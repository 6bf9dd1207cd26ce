import SluiceCache
import Testing

@Suite struct ByteRangeTests {
    /// Tue, 01 Dec 2026 10:00:00 GMT: when the stored response was dated.
    let storedAt: Int64 = 1_796_119_200
    let storedDate = "Tue, 01 Dec 2026 10:00:00 GMT"
    /// A day before `storedDate`: a strong Last-Modified.
    let modified = "Mon, 30 Nov 2026 10:00:00 GMT"

    var storedFields: HeaderFields {
        [("Date", storedDate), ("ETag", #""v1""#), ("Last-Modified", modified), ("Content-Length", "10000")]
    }

    /// The answer for a GET with `range` (and `ifRange`) against a 10000-byte stored 200.
    func answer(
        _ range: String?,
        ifRange: String? = nil,
        method: String = "GET",
        status: Int = 200,
        stored: HeaderFields? = nil,
        length: Int = 10_000
    ) -> RangeAnswer {
        var request: HeaderFields = ["Host": "example.com"]
        if let range { request.append("Range", range) }
        if let ifRange { request.append("If-Range", ifRange) }
        return ByteRange.answer(
            method: method, request: request, storedStatus: status, storedHeaders: stored ?? storedFields,
            length: length, now: storedAt
        )
    }

    // MARK: §14.1.2's examples, for a representation of length 10000

    @Test func theFirstAndSecond500Bytes() {
        #expect(answer("bytes=0-499") == .partial(first: 0, last: 499))
        #expect(answer("bytes=500-999") == .partial(first: 500, last: 999))
    }

    @Test func theFinal500BytesBySuffixOrByOpenEnd() {
        #expect(answer("bytes=-500") == .partial(first: 9_500, last: 9_999))
        #expect(answer("bytes=9500-") == .partial(first: 9_500, last: 9_999))
    }

    @Test func theRFCsSeveralRangeExamplesPassThrough() {
        #expect(answer("bytes=0-0,-1") == .passThrough)
        #expect(answer("bytes= 0-999, 4500-5499, -1000") == .passThrough)
        // Not canonical but valid, and still two ranges.
        #expect(answer("bytes=500-600,601-999") == .passThrough)
        #expect(answer("bytes=500-700,601-999") == .passThrough)
    }

    // MARK: §14.1.2 satisfiability

    @Test func aLastPosAtOrPastTheEndIsClippedToTheLastByte() {
        #expect(answer("bytes=9000-20000") == .partial(first: 9_000, last: 9_999))
        #expect(answer("bytes=0-9999") == .partial(first: 0, last: 9_999))
        #expect(answer("bytes=0-10000") == .partial(first: 0, last: 9_999))
        #expect(answer("bytes=9999-9999") == .partial(first: 9_999, last: 9_999))
        #expect(answer("bytes=0-0") == .partial(first: 0, last: 0))
        #expect(answer("bytes=0-") == .partial(first: 0, last: 9_999))
    }

    @Test func aSuffixLongerThanTheRepresentationIsAllOfIt() {
        #expect(answer("bytes=-10000") == .partial(first: 0, last: 9_999))
        #expect(answer("bytes=-10001") == .partial(first: 0, last: 9_999))
        #expect(answer("bytes=-1") == .partial(first: 9_999, last: 9_999))
        #expect(answer("bytes=-1", length: 1) == .partial(first: 0, last: 0))
    }

    @Test func aFirstPosAtOrPastTheEndIsUnsatisfiable() {
        #expect(answer("bytes=10000-") == .unsatisfiable)
        #expect(answer("bytes=10000-10005") == .unsatisfiable)
        #expect(answer("bytes=20000-30000") == .unsatisfiable)
        #expect(answer("bytes=1-", length: 1) == .unsatisfiable)
    }

    @Test func aZeroSuffixIsUnsatisfiable() {
        #expect(answer("bytes=-0") == .unsatisfiable)
        #expect(answer("bytes=-000") == .unsatisfiable)
    }

    @Test func aZeroLengthRepresentationHasNoBytesToSend() {
        #expect(answer("bytes=0-", length: 0) == .unsatisfiable)
        #expect(answer("bytes=0-0", length: 0) == .unsatisfiable)
        #expect(answer("bytes=-0", length: 0) == .unsatisfiable)
        // §14.1.2 calls a non-zero suffix satisfiable even here, but there is no byte to put in a
        // 206 nor a valid Content-Range for it: §14.2 lets the server ignore Range instead.
        #expect(answer("bytes=-5", length: 0) == .full)
    }

    // MARK: §14.2 when Range applies at all

    @Test func onlyAGetTakesRanges() {
        #expect(answer("bytes=0-499", method: "HEAD") == .full)
        #expect(answer("bytes=0-499", method: "POST") == .full)
        #expect(answer("bytes=0-499", method: "get") == .full)  // Methods are case-sensitive (§9.1).
    }

    @Test func onlyAStored200IsEligible() {
        #expect(answer("bytes=0-499", status: 206) == .full)
        #expect(answer("bytes=0-499", status: 203) == .full)
        #expect(answer("bytes=0-499", status: 404) == .full)
    }

    @Test func withoutRangeTheWholeResponseIsServed() {
        #expect(answer(nil) == .full)
        #expect(answer(nil, ifRange: #""v1""#) == .full)
    }

    @Test func theUnitIsBytesInAnyCase() {
        #expect(answer("Bytes=0-1") == .partial(first: 0, last: 1))
        #expect(answer("BYTES=0-1") == .partial(first: 0, last: 1))
        #expect(answer("items=0-1") == .full)
        #expect(answer("byte=0-1") == .full)
        #expect(answer("bytesx=0-1") == .full)
        #expect(answer("none") == .full)
    }

    @Test func whitespaceOnlyWhereTheListSyntaxAllowsIt() {
        #expect(answer("  bytes=0-1\t") == .partial(first: 0, last: 1))
        #expect(answer("bytes= 0-1") == .partial(first: 0, last: 1))  // Erratum 7306's OWS.
        #expect(answer("bytes=\t0-1") == .partial(first: 0, last: 1))
        #expect(answer("bytes=0-1 , 5-6") == .passThrough)
        #expect(answer("bytes =0-1") == .full)
        #expect(answer(" bytes = 0-1") == .full)
        #expect(answer("bytes=0 -1") == .full)
        #expect(answer("bytes=0- 1") == .full)
        #expect(answer("bytes=- 5") == .full)
    }

    @Test func emptyListElementsAreIgnored() {
        // §5.6.1.2: a recipient parses and ignores empty list elements.
        #expect(answer("bytes=1-2,") == .partial(first: 1, last: 2))
        #expect(answer("bytes=,1-2") == .partial(first: 1, last: 2))
        #expect(answer("bytes= , 1-2 , ") == .partial(first: 1, last: 2))
        #expect(answer("bytes=1-2,,3-4") == .passThrough)
        // `1#range-spec`: at least one must remain.
        #expect(answer("bytes=,") == .full)
        #expect(answer("bytes= , ,") == .full)
    }

    @Test func anInvalidRangesSpecifierIsIgnored() {
        for invalid in [
            "bytes=5-1",  // §14.1.1: last-pos below first-pos.
            "bytes=abc",  // other-range, which bytes does not use (§14.1.2).
            "bytes=",
            "bytes",
            "=0-1",
            "bytes=-",
            "bytes=--1",
            "bytes=1-2-3",
            "bytes=+1-2",
            "bytes=-+5",
            "bytes=0x10-",
            "bytes=1.5-2",
            "bytes=1-2;3",
            "bytes=1-2 3",
            "bytes=0-499,900-800",  // One invalid spec makes the whole set invalid, not several.
            "bytes=0-1,abc",
            "bytes=0-1,bytes=2-3",
            "bytes=١-٢",  // Only ASCII digits are DIGIT.
        ] {
            #expect(answer(invalid) == .full, "\(invalid)")
        }
    }

    @Test func hugeNumbersSaturateInsteadOfOverflowing() {
        let huge = "99999999999999999999999"
        #expect(answer("bytes=\(huge)-") == .unsatisfiable)
        #expect(answer("bytes=\(huge)-\(huge)") == .unsatisfiable)
        #expect(answer("bytes=0-\(huge)") == .partial(first: 0, last: 9_999))
        #expect(answer("bytes=-\(huge)") == .partial(first: 0, last: 9_999))
        #expect(answer("bytes=9223372036854775807-") == .unsatisfiable)  // Int.max itself.
        #expect(answer("bytes=9223372036854775808-") == .unsatisfiable)  // Int.max + 1.
        #expect(answer("bytes=-1", length: Int.max) == .partial(first: Int.max - 1, last: Int.max - 1))
        #expect(answer("bytes=0-", length: Int.max) == .partial(first: 0, last: Int.max - 1))
    }

    @Test func validityIsDecidedOnTheDigitsNotTheSaturatedValues() {
        // Both saturate to Int.max, yet last-pos is below first-pos: invalid, so ignored.
        #expect(answer("bytes=99999999999999999999999-99999999999999999999998") == .full)
        #expect(answer("bytes=99999999999999999999998-99999999999999999999999") == .unsatisfiable)
        // Leading zeros do not count.
        #expect(answer("bytes=0010-9") == .full)
        #expect(answer("bytes=9-0010") == .partial(first: 9, last: 10))
        #expect(answer("bytes=00000000000000000000000000001-0002") == .partial(first: 1, last: 2))
    }

    @Test func aSecondRangeLineIsNotASingletonField() {
        let request: HeaderFields = [("Range", "bytes=0-1"), ("Range", "bytes=0-1")]
        #expect(ByteRange.answer(method: "GET", request: request, storedStatus: 200, storedHeaders: storedFields,
                                 length: 10_000, now: storedAt) == .full)
    }

    // MARK: §13.1.5 If-Range

    @Test func anIfRangeETagMustMatchStrongly() {
        #expect(answer("bytes=0-499", ifRange: #""v1""#) == .partial(first: 0, last: 499))
        #expect(answer("bytes=0-499", ifRange: #"  "v1" "#) == .partial(first: 0, last: 499))
        #expect(answer("bytes=0-499", ifRange: #""v2""#) == .full)
        // A weak tag never matches strongly, on either side (§8.8.3.2).
        #expect(answer("bytes=0-499", ifRange: #"W/"v1""#) == .full)
        let weakStored: HeaderFields = [("Date", storedDate), ("ETag", #"W/"v1""#)]
        #expect(answer("bytes=0-499", ifRange: #""v1""#, stored: weakStored) == .full)
        #expect(answer("bytes=0-499", ifRange: #""v1""#, stored: ["Date": storedDate]) == .full)
    }

    @Test func aMalformedIfRangeNeverHolds() {
        #expect(answer("bytes=0-499", ifRange: #""v1"#) == .full)
        #expect(answer("bytes=0-499", ifRange: #""v1", "v1""#) == .full)
        #expect(answer("bytes=0-499", ifRange: "v1") == .full)
        #expect(answer("bytes=0-499", ifRange: "") == .full)
        #expect(answer("bytes=0-499", ifRange: "Mon, 30 Nov 2026 10:00:00") == .full)
    }

    @Test func anIfRangeDateMustEqualAStrongLastModified() {
        #expect(answer("bytes=0-499", ifRange: modified) == .partial(first: 0, last: 499))
        #expect(answer("bytes=0-499", ifRange: "Mon, 30 Nov 2026 10:00:01 GMT") == .full)
        #expect(answer("bytes=0-499", ifRange: "Mon, 30 Nov 2026 09:59:59 GMT") == .full)
        // The same instant in the obsolete RFC 850 form.
        #expect(answer("bytes=0-499", ifRange: "Monday, 30-Nov-26 10:00:00 GMT") == .partial(first: 0, last: 499))
        // Without an ETag in storage the date is all there is.
        let noETag: HeaderFields = [("Date", storedDate), ("Last-Modified", modified)]
        #expect(answer("bytes=0-499", ifRange: modified, stored: noETag) == .partial(first: 0, last: 499))
    }

    @Test func aLastModifiedIsStrongOnlyASecondOrMoreBeforeTheStoredDate() {
        // §8.8.2.2: the stored Date must be at least one second after the Last-Modified.
        let sameSecond: HeaderFields = [("Date", modified), ("Last-Modified", modified)]
        #expect(answer("bytes=0-499", ifRange: modified, stored: sameSecond) == .full)
        let oneSecond: HeaderFields = [("Date", "Mon, 30 Nov 2026 10:00:01 GMT"), ("Last-Modified", modified)]
        #expect(answer("bytes=0-499", ifRange: modified, stored: oneSecond) == .partial(first: 0, last: 499))
        let later: HeaderFields = [("Date", modified), ("Last-Modified", "Mon, 30 Nov 2026 10:00:05 GMT")]
        #expect(answer("bytes=0-499", ifRange: "Mon, 30 Nov 2026 10:00:05 GMT", stored: later) == .full)
        // No Date, nothing to deduce strength from; no Last-Modified, nothing to match.
        #expect(answer("bytes=0-499", ifRange: modified, stored: ["Last-Modified": modified]) == .full)
        #expect(answer("bytes=0-499", ifRange: modified, stored: ["Date": storedDate]) == .full)
    }

    @Test func ifRangeIsWeighedBeforeSeveralRangesPassThrough() {
        // If-Range fails: the client wants the whole new representation, which the cache has.
        #expect(answer("bytes=0-0,-1", ifRange: #""v2""#) == .full)
        #expect(answer("bytes=0-0,-1", ifRange: #""v1""#) == .passThrough)
        #expect(answer("bytes=10000-", ifRange: #""v2""#) == .full)
        #expect(answer("bytes=10000-", ifRange: #""v1""#) == .unsatisfiable)
    }

    @Test func aSecondIfRangeLineNeverHolds() {
        let request: HeaderFields = [("Range", "bytes=0-1"), ("If-Range", #""v1""#), ("If-Range", #""v1""#)]
        #expect(ByteRange.answer(method: "GET", request: request, storedStatus: 200, storedHeaders: storedFields,
                                 length: 10_000, now: storedAt) == .full)
    }

    // MARK: §14.4 Content-Range

    @Test func contentRangeFieldValues() {
        #expect(ByteRange.contentRange(first: 0, last: 499, length: 10_000) == "bytes 0-499/10000")
        #expect(ByteRange.contentRange(first: 42, last: 1_233, length: 1_234) == "bytes 42-1233/1234")
        #expect(ByteRange.unsatisfiedRange(length: 1_234) == "bytes */1234")
        #expect(ByteRange.unsatisfiedRange(length: 0) == "bytes */0")
    }
}
