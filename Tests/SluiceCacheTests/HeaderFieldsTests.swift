import SluiceCache
import Testing

@Suite struct HeaderFieldsTests {
    @Test func namesCompareCaseInsensitively() {
        let headers: HeaderFields = ["cache-CONTROL": "max-age=1", "ETag": "\"a\""]
        #expect(headers.first("Cache-Control") == "max-age=1")
        #expect(headers.contains("etag"))
        #expect(!headers.contains("Expires"))
    }

    @Test func linesCombineInOrderWithCommas() {
        let headers: HeaderFields = [("Vary", "Accept"), ("X", "1"), ("vary", "Accept-Encoding")]
        #expect(headers.combined("Vary") == "Accept, Accept-Encoding")
        #expect(headers.values("VARY") == ["Accept", "Accept-Encoding"])
        #expect(headers.combined("Missing") == nil)
    }

    @Test func listMembersSplitOutsideQuotesOnly() {
        let headers: HeaderFields = [("X", #" a , "b, \"c\"" ,, d"#), ("X", "e")]
        #expect(headers.listMembers("x") == ["a", #""b, \"c\"""#, "d", "e"])
    }

    @Test func adaptsNameValueTuplesAsNIOHeadersIterate() {
        let lines: [(name: String, value: String)] = [(name: "Age", value: "3"), (name: "age", value: "4")]
        #expect(HeaderFields(lines).values("Age") == ["3", "4"])
    }

    @Test func setReplacesEveryLineAndRemovingDropsNames() {
        var headers: HeaderFields = [("Age", "1"), ("Date", date0), ("AGE", "2")]
        headers.set("Age", "9")
        #expect(headers.values("Age") == ["9"])
        #expect(headers.removing(["date"]).fields == [HeaderField(name: "Age", value: "9")])
    }
}
