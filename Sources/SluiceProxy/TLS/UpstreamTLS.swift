#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOSSL
import NIOTLS
import SluiceConfig

/// HTTPS to one cluster's backends: the client context (trusted roots, versions, the client
/// certificate for mTLS) and the name each backend is asked for and checked against.
final class UpstreamTLS: Sendable {
    let config: ClusterTLSConfig
    /// Offered by ALPN: `h2` for a cluster with `http2`, else `http/1.1`.
    let alpn: String
    let context: NIOSSLContext
    /// The files as they were read: a reload that finds them changed builds a new context.
    let stamps: [FileStamp]

    private init(config: ClusterTLSConfig, alpn: String, context: NIOSSLContext, stamps: [FileStamp]) {
        self.config = config
        self.alpn = alpn
        self.context = context
        self.stamps = stamps
    }

    /// One per cluster with `tls`; `previous` is reused when neither the config nor its files
    /// changed, so that a reload keeps the pooled connections. `index` locates errors.
    static func make(_ config: ClusterTLSConfig, alpn: String = "http/1.1", index: Int, previous: UpstreamTLS?) throws -> UpstreamTLS {
        let files = [config.caFile, config.clientCert, config.clientKey].compactMap { $0 }
        let stamps = files.map { FileStamp($0) }
        if let previous, previous.config == config, previous.alpn == alpn, previous.stamps == stamps { return previous }
        let path = "clusters[\(index)].tls"
        for (key, file) in [("ca_file", config.caFile), ("client_cert", config.clientCert), ("client_key", config.clientKey)] {
            if let file, access(file, R_OK) != 0 {
                throw TLSSetupError(description: "\(path).\(key): cannot read \(file): \(String(cString: strerror(errno)))")
            }
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = config.minVersion == .tls13 ? .tlsv13 : .tlsv12
        tls.maximumTLSVersion = .tlsv13
        tls.applicationProtocols = [alpn]
        tls.certificateVerification = config.verify ? .fullVerification : .none
        if let caFile = config.caFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw TLSSetupError(description: "\(path).ca_file: \(caFile) is not a PEM certificate bundle (\(error))")
            }
        }
        if let cert = config.clientCert, let key = config.clientKey {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
            } catch {
                throw TLSSetupError(description: "\(path).client_cert: \(cert) is not a PEM certificate chain (\(error))")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw TLSSetupError(description: "\(path).client_key: \(key) is not a PEM private key (\(error))")
            }
        }
        do {
            return UpstreamTLS(config: config, alpn: alpn, context: try NIOSSLContext(configuration: tls), stamps: stamps)
        } catch {
            throw TLSSetupError(description: "\(path): \(error)")
        }
    }

    /// Every cluster's, by name; unchanged ones carried over from `previous`.
    static func forClusters(_ clusters: [ClusterConfig], previous: [String: UpstreamTLS]) throws -> [String: UpstreamTLS] {
        var made: [String: UpstreamTLS] = [:]
        for (index, cluster) in clusters.enumerated() {
            guard let tls = cluster.tls else { continue }
            made[cluster.name] = try make(tls, alpn: cluster.http2 == nil ? "http/1.1" : "h2", index: index, previous: previous[cluster.name])
        }
        return made
    }

    /// The SNI name for `backend`, which is also the name its certificate must carry: an IP
    /// address sends none, and is matched against the certificate's IP addresses instead.
    func serverName(for backend: BackendConfig) -> String? {
        if let name = config.serverName { return name }
        let isAddress = (try? SocketAddress(ipAddress: backend.host, port: 0)) != nil
        return isAddress ? nil : backend.host
    }

    /// The client handler and a waiter for its handshake, for the front of a new connection.
    func handlers(for backend: BackendConfig, handshake: EventLoopPromise<Void>) throws -> [any ChannelHandler] {
        [try NIOSSLClientHandler(context: context, serverHostname: serverName(for: backend)), UpstreamHandshake(handshake)]
    }
}

/// Completes its promise when the TLS handshake is done, or fails it with why not: the
/// connection is handed out only after, so that a bad certificate reads as a connect failure
/// (502 naming the cause) and not as a reset halfway through a request.
final class UpstreamHandshake: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    private let promise: EventLoopPromise<Void>
    private var done = false

    init(_ promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { finish(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.ioOnClosedChannel))
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }
}
