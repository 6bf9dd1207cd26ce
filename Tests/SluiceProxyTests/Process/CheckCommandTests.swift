import Foundation
import Testing

/// The real `sluice` binary's command line: `check` (exit codes, exact issue lines), `run`
/// with a missing file, `--version` and `--help`.
@Suite struct CheckCommandTests {
    @Test func validFilePassesCheck() async throws {
        let file = try TemporaryFile(contents: """
            listeners:
              - name: main
                address: 127.0.0.1
                port: 0
            clusters:
              - name: web
                backends:
                  - 127.0.0.1:9001
            routes:
              - cluster: web
            """, name: "sluice-check-valid")
        let result = try await SluiceProcess.check(configPath: file.path)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == "\(file.path): ok (1 listeners, 1 clusters, 1 routes)\n")
        #expect(result.stderr.isEmpty)
    }

    @Test func exampleFilePassesCheck() async throws {
        let path = SluiceProcess.packageRoot + "/sluice.example.yaml"
        #expect(FileManager.default.fileExists(atPath: path))
        // The example's TLS listener reads its pair from SLUICE_TLS_DIR: check loads it.
        let certs = try await TestCertificates.make()
        try await certs.leaf("example", names: ["example.test"])
        let result = try await SluiceProcess.check(configPath: path, environment: ["SLUICE_TLS_DIR": certs.directory])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.hasPrefix("\(path): ok ("), "stdout: \(result.stdout)")
        #expect(result.stdout == "\(path): ok (4 listeners, 2 clusters, 3 routes)\n")
        // Without the files, check names the key and the file.
        let missing = try await SluiceProcess.check(configPath: path, environment: ["SLUICE_TLS_DIR": certs.directory + "/none"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("listeners[1].tls.certificates[0].cert: cannot read \(certs.directory)/none/example.pem"),
                "stderr: \(missing.stderr)")
    }

    @Test func invalidFileFailsWithExactIssueLines() async throws {
        let file = try TemporaryFile(contents: """
            listeners:
              - adress: 127.0.0.1
                port: 0
            clusters:
              - name: web
            routes:
              - cluster: nope
            """, name: "sluice-check-invalid")
        let result = try await SluiceProcess.check(configPath: file.path)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty, "stdout: \(result.stdout)")
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        #expect(lines == [
            #"\#(file.path):2: listeners[0].adress: unknown key "adress"; did you mean "address"?"#,
            #"\#(file.path):7: routes[0].cluster: cluster "nope" is not defined (defined: web)"#,
        ])
    }

    @Test func checkOfMissingFileFails() async throws {
        let path = NSTemporaryDirectory() + "sluice-missing-\(UInt64.random(in: 0...UInt64.max)).yaml"
        let result = try await SluiceProcess.check(configPath: path)
        #expect(result.status == 1)
        #expect(result.stderr == "\(path): (root): cannot read file: No such file or directory\n")
    }

    @Test func runWithMissingFileExitsOneNamingTheFile() async throws {
        let path = "/nonexistent.yaml"
        #expect(!FileManager.default.fileExists(atPath: path))
        let result = try await SluiceProcess.run(["run", "-c", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains(path), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("\(path): (root): cannot read file: No such file or directory"), "stderr: \(result.stderr)")
        // It never got as far as listening.
        #expect(!result.stderr.contains("listening"))
    }

    @Test func versionPrintsVersion() async throws {
        let result = try await SluiceProcess.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test func helpListsSubcommands() async throws {
        let result = try await SluiceProcess.run(["--help"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let subcommands = result.stdout.components(separatedBy: "SUBCOMMANDS:").dropFirst().first ?? ""
        #expect(!subcommands.isEmpty, "stdout: \(result.stdout)")
        for name in ["run", "check", "demo"] {
            let listed = subcommands.split(separator: "\n").contains { line in
                line.trimmingCharacters(in: .whitespaces).hasPrefix(name + " ")
            }
            #expect(listed, "\(name) not listed in: \(result.stdout)")
        }
    }
}
