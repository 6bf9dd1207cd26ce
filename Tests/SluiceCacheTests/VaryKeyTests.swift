import SluiceCache
import Testing

@Suite struct VaryKeyTests {
    let response: HeaderFields = [("Vary", "Accept-Encoding"), ("vary", "accept-language, ACCEPT-ENCODING")]

    @Test func fieldNamesAreLowercasedInOrderWithoutDuplicates() {
        #expect(VaryKey(response: response, request: [:])?.fieldNames == ["accept-encoding", "accept-language"])
    }

    @Test func withoutVaryEveryRequestMatches() {
        let key = VaryKey(response: ["Cache-Control": "max-age=60"], request: ["Accept": "a"])
        #expect(key?.string == "")
        #expect(key?.matches(["Accept": "b"]) == true)
    }

    @Test func whitespaceAroundCommasAndSplitLinesAreNormalisedAway() {
        let key = VaryKey(response: response, request: [("Accept-Encoding", "gzip,  br"), ("Accept-Language", "en")])
        #expect(key?.matches([("accept-encoding", "gzip"), ("Accept-Encoding", " br "), ("Accept-Language", "en")]) == true)
        #expect(key?.string == "accept-encoding=gzip,br\naccept-language=en")
    }

    @Test func aDifferentValueDoesNotMatch() {
        let key = VaryKey(response: response, request: [("Accept-Encoding", "gzip"), ("Accept-Language", "en")])
        #expect(key?.matches([("Accept-Encoding", "br"), ("Accept-Language", "en")]) == false)
        #expect(key?.matches([("Accept-Encoding", "GZIP"), ("Accept-Language", "en")]) == false)  // case is kept
    }

    @Test func anAbsentFieldMatchesOnlyAnAbsentField() {
        let key = VaryKey(response: ["Vary": "Accept-Language"], request: [:])
        #expect(key?.string == "accept-language")
        #expect(key?.matches([:]) == true)
        #expect(key?.matches(["Accept-Language": ""]) == false)
    }

    @Test func varyAsteriskNeverMatches() {
        let star: HeaderFields = ["Vary": "Accept, *"]
        #expect(VaryKey(response: star, request: [:]) == nil)
        #expect(!VaryKey.matches(storedVary: star, storedRequestValues: [nil], newRequest: [:]))
    }

    @Test func storedRequestValuesSelectTheVariant() {
        let stored = VaryKey(response: response, request: [("Accept-Encoding", "gzip")])
        #expect(stored?.values == ["gzip", nil])
        #expect(VaryKey.matches(storedVary: response, storedRequestValues: ["gzip", nil], newRequest: ["accept-encoding": "gzip"]))
        #expect(!VaryKey.matches(storedVary: response, storedRequestValues: ["gzip", nil], newRequest: [("Accept-Encoding", "gzip"), ("Accept-Language", "de")]))
    }
}
