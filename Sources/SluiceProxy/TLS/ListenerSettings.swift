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
    let http2: HTTP2Config

    var scheme: String { tls == nil ? "http" : "https" }

    init(tls: TLSTerminator? = nil, hsts: String? = nil, httpsRedirect: HTTPSRedirectConfig? = nil,
         forwardProxy: ForwardProxyConfig? = nil, http2: HTTP2Config = HTTP2Config()) {
        self.forwardProxy = forwardProxy
        self.http2 = http2
        self.tls = tls
        self.hsts = hsts
        self.httpsRedirect = httpsRedirect
    }

    /// Plain HTTP, no redirect.
    static let plain = ListenerSettings()

    /// `index` is the listener's position in the config, for error key paths.
    static func make(_ listener: ListenerConfig, index: Int) throws -> ListenerSettings {
        guard let tls = listener.tls else {
            if listener.httpsRedirect == nil, listener.forwardProxy == nil, !listener.http2.enabled { return .plain }
            return ListenerSettings(httpsRedirect: listener.httpsRedirect, forwardProxy: listener.forwardProxy, http2: listener.http2)
        }
        var offered = tls
        if listener.http2.enabled { offered.alpn = ["h2"] + tls.alpn.filter { $0 != "h2" } }
        let terminator = try TLSTerminator(offered, path: "listeners[\(index)].tls")
        // max-age=0 is sent too: it is how a site tells browsers to forget its HSTS policy.
        return ListenerSettings(tls: terminator, hsts: tls.hsts?.headerValue, forwardProxy: listener.forwardProxy, http2: listener.http2)
    }
}
