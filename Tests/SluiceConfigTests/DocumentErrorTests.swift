import Testing
@testable import SluiceConfig

/// Errors about the document itself rather than one key's value: syntax, duplicate keys,
/// unreadable files, and the issue text format.
@Suite struct DocumentErrorTests {
    @Test func duplicateKeysInOneMapping() {
        #expect(issues("limits:\n  max_connections: 1\n  max_connections: 2\n")
            == [#"test.yaml:2: (root): invalid YAML: duplicate key "max_connections" in the mapping starting on this line"#])
        #expect(issues("{\n  \"event_loops\": 1,\n  \"event_loops\": 2\n}", source: "c.json")
            == [#"c.json:3: event_loops: duplicate key "event_loops" (first on line 2)"#])
    }

    @Test func yamlSyntaxError() {
        #expect(issues("listeners:\n  - port: 1\n bad: [\n") == [
            "test.yaml:3: (root): invalid YAML: while parsing a block mapping, did not find expected key",
        ])
    }

    @Test func jsonErrorsHaveLinesToo() {
        let json = """
        {
          "listeners": [
            { "prot": 80 }
          ]
        }
        """
        #expect(issues(json, source: "c.json") == [#"c.json:3: listeners[0].prot: unknown key "prot"; did you mean "port"?"#])
        #expect(issues("{\n  \"a\": 1,\n}\n", source: "c.json") == ["c.json:3: (root): invalid JSON: expected a string key"])
        #expect(issues("{} {}", source: "c.json") == ["c.json:1: (root): invalid JSON: unexpected content after the top-level value"])
    }

    @Test func unreadableFileNamesIt() {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/sluice.yaml", environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/sluice.yaml: (root): cannot read file: No such file or directory")
        }
    }

    @Test func issueDescriptionFormats() {
        #expect(ConfigIssue(file: "f", line: 3, path: "a.b", message: "m").description == "f:3: a.b: m")
        #expect(ConfigIssue(file: "f", line: nil, path: "(root)", message: "m").description == "f: (root): m")
        let error = ConfigError(issues: [
            ConfigIssue(file: "f", line: 1, path: "x", message: "one"),
            ConfigIssue(file: "f", line: 2, path: "y", message: "two"),
        ])
        #expect(error.description == "f:1: x: one\nf:2: y: two")
    }

    @Test func didYouMeanDistance() {
        #expect(ConfigReader.closest(to: "adress", in: ConfigSchema.listener) == "address")
        #expect(ConfigReader.closest(to: "zzz", in: ConfigSchema.listener) == nil)
        #expect(ConfigReader.levenshtein("kitten", "sitting") == 3)
        #expect(ConfigReader.levenshtein("", "abc") == 3)
    }
}
