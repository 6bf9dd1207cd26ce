import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import SluiceConfig

/// TLS for one listener: the NIOSSL context (versions, ciphers, ALPN) and the certificates it
/// presents, chosen per handshake by SNI and swapped when their files change, without a restart.
final class TLSTerminator: Sendable {
    let config: ListenerTLSConfig
    let context: NIOSSLContext
    private let path: String
    private let certificates: NIOLockedValueBox<CertificateSet>
    private let timer = NIOLockedValueBox<RepeatedTask?>(nil)

    /// `path` is the `tls` section's key path, for errors and log lines.
    init(_ config: ListenerTLSConfig, path: String) throws {
        self.config = config
        self.path = path
        let set = try CertificateSet.load(config, path: path)
        let certificates = NIOLockedValueBox(set)
        self.certificates = certificates
        let first = set.certificates[0]
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: first.chain, privateKey: first.key)
        tls.minimumTLSVersion = config.minVersion == .tls13 ? .tlsv13 : .tlsv12
        tls.maximumTLSVersion = .tlsv13
        tls.cipherSuites = config.ciphers
        tls.applicationProtocols = config.alpn
        // Once per ClientHello: the certificate for the name the client asked for.
        tls.sslContextCallback = { values, promise in
            let chosen = certificates.withLockedValue { $0.pick(serverName: values.serverHostname) }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = chosen.chain
            override.privateKey = chosen.key
            promise.succeed(override)
        }
        do {
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw TLSSetupError(description: "\(path): \(error) (check ciphers and min_version)")
        }
    }

    /// Loads the certificates again if a file changed since they were read. A pair that fails
    /// to load leaves the ones in force, with an error in the log. Returns whether it swapped.
    @discardableResult
    func reloadIfChanged(logger: Logger) -> Bool {
        let current = certificates.withLockedValue { $0.stamps }
        let now = config.certificates.flatMap { [FileStamp($0.certFile), FileStamp($0.keyFile)] }
        guard now != current else { return false }
        do {
            let fresh = try CertificateSet.load(config, path: path)
            certificates.withLockedValue { $0 = fresh }
            logger.notice("tls certificates reloaded", metadata: ["tls": "\(path)", "names": "\(fresh.certificates.map(\.names))"])
            return true
        } catch {
            // Counted as seen, so that one bad write is logged once, not on every tick.
            certificates.withLockedValue { $0 = CertificateSet(certificates: $0.certificates, stamps: now) }
            logger.error("tls certificates not reloaded: the ones in force stay", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Checks the files every `reload_interval` (nothing when it is 0).
    func startWatching(on loop: any EventLoop, logger: Logger) {
        guard config.reloadInterval > .zero else { return }
        let interval = TimeAmount(config.reloadInterval)
        let task = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            self?.reloadIfChanged(logger: logger)
        }
        timer.withLockedValue { $0 = task }
    }

    func stopWatching() {
        timer.withLockedValue { task in
            task?.cancel()
            task = nil
        }
    }
}
