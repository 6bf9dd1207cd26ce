#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOSSL
import SluiceConfig
import SwiftASN1
import X509

/// A certificate problem, worded with the key path of the file at fault.
struct TLSSetupError: Error, CustomStringConvertible {
    let description: String
}

/// One certificate chain and its key, loaded from their PEM files, and the SNI names it answers.
struct LoadedCertificate: Sendable {
    let chain: [NIOSSLCertificateSource]
    let key: NIOSSLPrivateKeySource
    /// Lowercased; `*.example.com` covers exactly one more label.
    let names: [String]
}

/// The certificates of one TLS listener. `pick` chooses by the SNI name: an exact name first,
/// then a wildcard, else the first certificate (the default).
struct CertificateSet: Sendable {
    let certificates: [LoadedCertificate]
    /// What the files looked like when read, to see that one changed.
    let stamps: [FileStamp]

    /// `path` is the `tls` section's key path (`listeners[0].tls`), for errors.
    static func load(_ config: ListenerTLSConfig, path: String) throws -> CertificateSet {
        var loaded: [LoadedCertificate] = []
        var stamps: [FileStamp] = []
        for (index, entry) in config.certificates.enumerated() {
            let at = "\(path).certificates[\(index)]"
            stamps.append(FileStamp(entry.certFile))
            stamps.append(FileStamp(entry.keyFile))
            loaded.append(try load(entry, at: at))
        }
        guard !loaded.isEmpty else { throw TLSSetupError(description: "\(path).certificates: no certificate") }
        return CertificateSet(certificates: loaded, stamps: stamps)
    }

    private static func load(_ entry: TLSCertificateConfig, at path: String) throws -> LoadedCertificate {
        for (key, file) in [("cert", entry.certFile), ("key", entry.keyFile)] where access(file, R_OK) != 0 {
            throw TLSSetupError(description: "\(path).\(key): cannot read \(file): \(String(cString: strerror(errno)))")
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(entry.certFile)
        } catch {
            throw TLSSetupError(description: "\(path).cert: \(entry.certFile) is not a PEM certificate chain (\(error))")
        }
        guard let leaf = chain.first else {
            throw TLSSetupError(description: "\(path).cert: \(entry.certFile) holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: entry.keyFile, format: .pem)
        } catch {
            throw TLSSetupError(description: "\(path).key: \(entry.keyFile) is not a PEM private key (\(error))")
        }
        // A context with the pair is what BoringSSL checks the key against the certificate with.
        do {
            _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                          privateKey: .privateKey(key)))
        } catch {
            throw TLSSetupError(description: "\(path).key: \(entry.keyFile) does not belong to the certificate in \(entry.certFile) (\(error))")
        }
        let names = entry.serverNames.isEmpty ? try dnsNames(of: leaf, at: path) : entry.serverNames
        return LoadedCertificate(chain: chain.map { .certificate($0) }, key: .privateKey(key), names: names)
    }

    private static func dnsNames(of leaf: NIOSSLCertificate, at path: String) throws -> [String] {
        do {
            let certificate = try Certificate(derEncoded: leaf.toDERBytes())
            var names: [String] = []
            for name in try certificate.extensions.subjectAlternativeNames ?? SubjectAlternativeNames() {
                if case .dnsName(let dns) = name { names.append(dns.lowercased()) }
            }
            return names
        } catch {
            throw TLSSetupError(description: "\(path).cert: cannot read the certificate's names (\(error)); list them in server_names")
        }
    }

    func pick(serverName: String?) -> LoadedCertificate {
        guard let serverName, !certificates.isEmpty else { return certificates[0] }
        let name = serverName.lowercased()
        if let exact = certificates.first(where: { $0.names.contains(name) }) { return exact }
        if let dot = name.firstIndex(of: ".") {
            let wildcard = "*" + name[dot...]
            if let match = certificates.first(where: { $0.names.contains(wildcard) }) { return match }
        }
        return certificates[0]
    }
}

/// A file's identity and version as `stat` reports them: a rename over it (how a Kubernetes
/// secret or certbot swaps files) changes the inode, an edit in place the time or size.
struct FileStamp: Sendable, Equatable {
    var inode: UInt64 = 0
    var size: Int64 = 0
    var modified: Int64 = 0
    var modifiedNanos: Int = 0

    init(_ path: String) {
        // Foundation's attributes, not Glibc's stat struct: release builds resolve that struct
        // through CoreFoundation under MemberImportVisibility, and refuse it.
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return }
        inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
        size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        self.modified = Int64(modified)
        modifiedNanos = Int((modified - Double(Int64(modified))) * 1e9)
    }
}
