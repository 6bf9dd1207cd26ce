// Listener modes beyond plain HTTP (TLS termination, the redirect to HTTPS, the forward
// proxy) and HTTPS to upstreams (`clusters[].tls`).

/// TLS termination on a listener (`listeners[].tls`).
public struct ListenerTLSConfig: Sendable, Equatable {
    /// Mozilla's "intermediate" TLS 1.2 suites (forward secret AEAD only) in OpenSSL names;
    /// BoringSSL fixes the TLS 1.3 suites itself. Its DHE suites are left out: BoringSSL has none.
    public static let intermediateCiphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// Key `certificates`: at least one; the first answers a client that sends no SNI name or
    /// one no certificate covers.
    public var certificates: [TLSCertificateConfig]
    /// Key `min_version`, default 1.2 (1.3 is the other choice; older versions are never offered).
    public var minVersion: TLSMinimumVersion = .tls12
    /// Key `ciphers`, default `intermediateCiphers`.
    public var ciphers: String = ListenerTLSConfig.intermediateCiphers
    /// Key `alpn`, default `[http/1.1]`: the protocols offered, most preferred first.
    public var alpn: [String] = ["http/1.1"]
    /// Key `reload_interval`, default 60s: how often the certificate and key files are checked
    /// for changes (a changed pair is loaded without a restart); 0 = only on a config reload.
    public var reloadInterval: Duration = .seconds(60)
    /// Key `hsts`: nil (absent) = no Strict-Transport-Security header.
    public var hsts: HSTSConfig?

    public init(certificates: [TLSCertificateConfig]) {
        self.certificates = certificates
    }
}

public enum TLSMinimumVersion: String, Sendable, Equatable, CaseIterable {
    case tls12 = "1.2"
    case tls13 = "1.3"
}

public struct TLSCertificateConfig: Sendable, Equatable {
    /// Key `cert`: a PEM file, leaf first, then its intermediates. Relative to the config file.
    public var certFile: String
    /// Key `key`: the leaf's private key, PEM.
    public var keyFile: String
    /// Key `server_names`: the SNI names this pair answers (exact, or `*.example.com` for one
    /// label); default: the certificate's DNS subject alternative names (its CN when it has none).
    public var serverNames: [String]

    public init(certFile: String, keyFile: String, serverNames: [String] = []) {
        self.certFile = certFile
        self.keyFile = keyFile
        self.serverNames = serverNames
    }
}

/// RFC 6797 Strict-Transport-Security, sent on every response of a TLS listener.
public struct HSTSConfig: Sendable, Equatable {
    /// Key `max_age`, default 365 days.
    public var maxAge: Duration = .seconds(365 * 86_400)
    /// Key `include_subdomains`, default false.
    public var includeSubdomains = false
    /// Key `preload`, default false.
    public var preload = false

    public init() {}

    /// The header's value.
    public var headerValue: String {
        "max-age=\(maxAge.components.seconds)" + (includeSubdomains ? "; includeSubDomains" : "") + (preload ? "; preload" : "")
    }
}

/// A plain listener that answers every request with a redirect to the same URL over HTTPS.
public struct HTTPSRedirectConfig: Sendable, Equatable {
    /// Key `port`, default 443 (left out of the Location when 443).
    public var port = 443
    /// Key `status`, default 301; 301, 302, 307 or 308.
    public var status = 301

    public init(port: Int = 443, status: Int = 301) {
        self.port = port
        self.status = status
    }
}

/// HTTPS to a cluster's backends (`clusters[].tls`).
public struct ClusterTLSConfig: Sendable, Equatable {
    /// Key `server_name`: the SNI name and the name the backend's certificate must carry;
    /// default: the backend's host when it is a name (an IP address is checked against the
    /// certificate's IP addresses, and sends no SNI).
    public var serverName: String?
    /// Key `verify`, default true: the chain and the name are checked; false accepts any
    /// certificate (for testing only: it gives up the protection TLS exists for).
    public var verify = true
    /// Key `ca_file`: the PEM roots to trust; default the system store.
    public var caFile: String?
    /// Keys `client_cert` and `client_key`: a certificate to present (mTLS); both or neither.
    public var clientCert: String?
    public var clientKey: String?
    /// Key `min_version`, default 1.2.
    public var minVersion: TLSMinimumVersion = .tls12

    public init() {}
}

/// HTTP/2 to a cluster's backends (`clusters[].http2`): over TLS with ALPN `h2` when the
/// cluster has `tls`, else h2c with prior knowledge. Requests are streams multiplexed over one
/// connection per backend per event loop; another is opened only when each carries
/// `max_concurrent_streams` (or fewer, when the backend's SETTINGS say so).
public struct ClusterHTTP2Config: Sendable, Equatable {
    /// Key `max_concurrent_streams`, default 100: streams per upstream connection.
    public var maxConcurrentStreams = 100
    /// Key `initial_window_size`, default 256KiB: how much of one response a stream takes
    /// before the client has read it (HTTP/2 flow control carries the client's pace upstream).
    public var initialWindowSize = 256 * 1024

    public init() {}
}

/// A listener in forward-proxy mode (`listeners[].forward_proxy`): `CONNECT host:port`
/// tunnels and absolute-form `GET http://…` requests, for clients and destinations the lists
/// allow. Deny by default: with empty lists nothing passes.
public struct ForwardProxyConfig: Sendable, Equatable {
    /// Key `allow_clients`: CIDRs of the clients that may use the proxy; default none.
    public var allowClients: [CIDR] = []
    /// Key `allow_hosts`: destination hosts, exact (`api.example.com`, `203.0.113.7`),
    /// `*.example.com` (subdomains), or `*` (any host); default none.
    public var allowHosts: [String] = []
    /// Key `allow_ports`, default [80, 443].
    public var allowPorts: [Int] = [80, 443]
    /// Key `allow_private`: CIDRs inside the loopback, private, link-local and other
    /// non-public ranges that destinations may still be in; default none (SSRF defence: a
    /// name that resolves into those ranges is refused).
    public var allowPrivate: [CIDR] = []
    /// Key `users`: `Proxy-Authorization: Basic` credentials; default none = no authentication.
    public var users: [ForwardProxyUser] = []

    public init() {}
}

public struct ForwardProxyUser: Sendable, Equatable {
    /// Key `name`.
    public var name: String
    /// Key `password`; use `${VAR}` to keep it out of the file.
    public var password: String

    public init(name: String, password: String) {
        self.name = name
        self.password = password
    }
}

/// HTTP/2 from clients (`listeners[].http2`): over TLS by ALPN `h2`, and on a plain listener
/// as h2c with prior knowledge (a connection that opens with the HTTP/2 preface; others stay
/// HTTP/1.1). Streams go through the same routes and phases as HTTP/1.1 requests.
public struct HTTP2Config: Sendable, Equatable {
    /// Key `enabled`, default false.
    public var enabled = false
    /// Key `max_concurrent_streams`, default 100 (SETTINGS_MAX_CONCURRENT_STREAMS).
    public var maxConcurrentStreams = 100
    /// Key `max_header_list_size`, default 16KiB (SETTINGS_MAX_HEADER_LIST_SIZE).
    public var maxHeaderListSize = 16 * 1024
    /// Keys `max_resets` and `reset_window`: more stream resets than this within the window
    /// is the rapid-reset attack (CVE-2023-44487): GOAWAY and close. Default 200 per 30s.
    public var maxResets = 200
    public var resetWindow: Duration = .seconds(30)

    public init() {}
}
