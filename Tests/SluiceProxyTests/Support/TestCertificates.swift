import Foundation
import SluiceTestSupport

/// Certificates made for one test with the `openssl` command line (scripts/test.sh installs it):
/// a throwaway CA, and leaf certificates it signs, in a temporary folder removed on deinit.
final class TestCertificates: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let directory: String
    var caFile: String { directory + "/ca.pem" }

    private init(directory: String) { self.directory = directory }

    static func make() async throws -> TestCertificates {
        let directory = NSTemporaryDirectory() + "sluice-tls-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let made = TestCertificates(directory: directory)
        try await made.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                "-keyout", directory + "/ca.key", "-out", directory + "/ca.pem", "-days", "2",
                                "-subj", "/CN=Sluice Test CA"])
        return made
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A leaf for `names` (DNS subject alternative names; `IP:1.2.3.4` for an address) signed by the CA, its subject CN
    /// `commonName` (the first name by default), written to `<file>.pem` and `<file>.key`.
    /// Returns the two paths. Written next to their final names and renamed over them, as a
    /// certificate manager replaces files.
    @discardableResult
    func leaf(_ file: String, names: [String], commonName: String? = nil) async throws -> (cert: String, key: String) {
        let cert = directory + "/" + file + ".pem", key = directory + "/" + file + ".key"
        let stage = directory + "/." + file + "-\(UInt32.random(in: 0...UInt32.max))"
        try await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                           "-keyout", stage + ".key", "-out", stage + ".pem", "-days", "2",
                           "-subj", "/CN=\(commonName ?? names[0].replacingOccurrences(of: "IP:", with: ""))", "-CA", caFile, "-CAkey", directory + "/ca.key",
                           "-addext", "subjectAltName=" + names.map { $0.hasPrefix("IP:") ? $0 : "DNS:" + $0 }.joined(separator: ","),
                           "-addext", "basicConstraints=critical,CA:FALSE"])
        guard rename(stage + ".key", key) == 0, rename(stage + ".pem", cert) == 0 else {
            throw Failure(description: "cannot rename the new certificate into place: errno \(errno)")
        }
        return (cert, key)
    }

    private func openssl(_ arguments: [String]) async throws {
        let result = try await offPool { () -> (Int32, String) in
            let process = try Subprocess.launch("/usr/bin/env", ["openssl"] + arguments, stdout: .null)
            let errors = process.stderr!.readDataToEndOfFile()
            return (process.waitUntilExit() ?? -1, String(decoding: errors, as: UTF8.self))
        }
        guard result.0 == 0 else { throw Failure(description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(result.1)") }
    }
}
