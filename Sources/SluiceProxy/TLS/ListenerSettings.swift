import SluiceConfig

/// What a listener does with each connection beyond the shared proxy path: TLS, HSTS, the
/// redirect to HTTPS. Built (certificates loaded) before a start or a reload commits, so a bad
/// certificate fails the reload and the settings in force stay.
final class ListenerSettings: Sendable {
    let tls: TLSTerminator?
    /// The Strict-Transport-Security value, on TLS listeners that set `hsts`.
    let hsts: String?
    let httpsRedirect: HTTPSRedirectConfig?
    /// Set on a forward-proxy listener.
    let forwardProxy: ForwardProxyConfig?

    var scheme: String { tls == nil ? "http" : "https" }

    init(tls: TLSTerminator? = nil, hsts: String? = nil, httpsRedirect: HTTPSRedirectConfig? = nil,
         forwardProxy: ForwardProxyConfig? = nil) {
        self.forwardProxy = forwardProxy
        self.tls = tls
        self.hsts = hsts
        self.httpsRedirect = httpsRedirect
    }

    /// Plain HTTP, no redirect.
    static let plain = ListenerSettings()

    /// `index` is the listener's position in the config, for error key paths.
    static func make(_ listener: ListenerConfig, index: Int) throws -> ListenerSettings {
        guard let tls = listener.tls else {
            if listener.httpsRedirect == nil, listener.forwardProxy == nil { return .plain }
            return ListenerSettings(httpsRedirect: listener.httpsRedirect, forwardProxy: listener.forwardProxy)
        }
        let terminator = try TLSTerminator(tls, path: "listeners[\(index)].tls")
        // max-age=0 is sent too: it is how a site tells browsers to forget its HSTS policy.
        return ListenerSettings(tls: terminator, hsts: tls.hsts?.headerValue, forwardProxy: listener.forwardProxy)
    }
}
