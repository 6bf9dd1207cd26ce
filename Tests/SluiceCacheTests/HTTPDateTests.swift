import SluiceCache
import Testing

@Suite struct HTTPDateTests {
    @Test func parsesIMFFixdate() {
        #expect(HTTPDate.parse(date0, now: t0) == t0)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: t0) == 784_111_777)
    }

    @Test func parsesTheObsoleteRFC850Form() {
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: t0) == 784_111_777)
    }

    @Test func parsesTheObsoleteAsctimeForm() {
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994", now: t0) == 784_111_777)
        #expect(HTTPDate.parse("Tue Dec 01 10:00:00 2026", now: t0) == t0)
    }

    @Test func aTwoDigitYearIsNeverMoreThanFiftyYearsAhead() {
        // now is 2026: 76 is 2076 (exactly 50 ahead), 77 is 1977.
        #expect(HTTPDate.parse("Tuesday, 01-Dec-76 10:00:00 GMT", now: t0) == HTTPDate.parse("Tue, 01 Dec 2076 10:00:00 GMT", now: t0))
        #expect(HTTPDate.parse("Wednesday, 01-Dec-77 10:00:00 GMT", now: t0) == HTTPDate.parse("Thu, 01 Dec 1977 10:00:00 GMT", now: t0))
        #expect(HTTPDate.parse("Tuesday, 01-Dec-26 10:00:00 GMT", now: t0) == t0)
    }

    @Test func formatsIMFFixdate() {
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(t0) == date0)
        #expect(HTTPDate.format(-126_230_401) == "Fri, 31 Dec 1965 23:59:59 GMT")
    }

    @Test func formatAndParseAgreeAcrossCenturies() {
        // Every 9,973rd day from 1800 to 2300, at a time of day that moves too.
        for day in stride(from: Int64(-62_000), through: 120_000, by: 9_973) {
            let seconds = day * 86_400 + (day & 0xFFFF) % 86_400
            #expect(HTTPDate.parse(HTTPDate.format(seconds), now: t0) == seconds, "\(HTTPDate.format(seconds))")
        }
    }

    @Test func leapDaysFollowTheGregorianRules() {
        #expect(HTTPDate.parse("Tue, 29 Feb 2028 12:00:00 GMT", now: t0) == 1_835_438_400)
        #expect(HTTPDate.parse("Tue, 29 Feb 2000 12:00:00 GMT", now: t0) != nil)
        #expect(HTTPDate.parse("Mon, 29 Feb 2027 12:00:00 GMT", now: t0) == nil)
        #expect(HTTPDate.parse("Thu, 29 Feb 2100 12:00:00 GMT", now: t0) == nil)
        #expect(HTTPDate.parse("Mon, 30 Feb 2028 12:00:00 GMT", now: t0) == nil)
    }

    @Test func aLeapSecondIsAccepted() {
        #expect(HTTPDate.parse("Tue, 01 Dec 2026 09:59:60 GMT", now: t0) == t0)
    }

    @Test func anythingElseIsInvalid() {
        let invalid = [
            "", "0", "-1", "Tue, 01 Dec 2026 10:00:00 UTC", "tue, 01 Dec 2026 10:00:00 GMT", "Tue, 01 dec 2026 10:00:00 GMT",
            "Tue, 1 Dec 2026 10:00:00 GMT", "Tue, 01 Dec 2026 24:00:00 GMT", "Tue, 01 Dec 2026 10:60:00 GMT",
            "Tue, 01 Dec 2026 10:00:00 GMT junk", "Tue, 00 Dec 2026 10:00:00 GMT", "Tus, 01 Dec 2026 10:00:00 GMT",
            "Tuesday, 01-Dec-2026 10:00:00 GMT", "Tue Dec 1 10:00:00 2026", "2026-12-01T10:00:00Z",
        ]
        for text in invalid { #expect(HTTPDate.parse(text, now: t0) == nil, "\(text)") }
    }

    @Test func surroundingWhitespaceIsIgnored() {
        #expect(HTTPDate.parse("  \(date0)\t", now: t0) == t0)
    }
}
