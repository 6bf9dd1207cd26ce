/// `listeners[].tls`, `https_redirect`, `http2` and `forward_proxy`, and `clusters[].tls` and `http2`.
extension ConfigReader {
    func readListenerTLS(_ listener: Fields) -> ListenerTLSConfig? {
        guard let fields = section(listener, "tls", ConfigSchema.listenerTLS) else { return nil }
        var certificates: [TLSCertificateConfig] = []
        if let entries = items(fields, "certificates") {
            for (item, path) in entries {
                guard let entry = self.fields(item, at: path, allowed: ConfigSchema.tlsCertificate) else { continue }
                let cert = required(entry, "cert", .nonEmptyString).value.map(resolved)
                let key = required(entry, "key", .nonEmptyString).value.map(resolved)
                let names = (items(entry, "server_names") ?? []).compactMap { item, path in
                    convert(item, at: path, as: .serverName).value
                }
                if let cert, let key { certificates.append(TLSCertificateConfig(certFile: cert, keyFile: key, serverNames: names)) }
            }
            if entries.isEmpty {
                report("expected at least one certificate", at: fields.path.key("certificates"), line: fields.node("certificates")?.line)
            }
        } else if fields.node("certificates") == nil {
            report("missing required key \"certificates\"", at: fields.path, line: fields.line)
        }
        var tls = ListenerTLSConfig(certificates: certificates)
        tls.minVersion = value(fields, "min_version", .enumeration("TLS version")).or(tls.minVersion)
        tls.ciphers = value(fields, "ciphers", .nonEmptyString).or(tls.ciphers)
        if let entries = items(fields, "alpn") {
            // h2 waits for the HTTP/2 server: offering it now would hand h2 clients an HTTP/1.1 peer.
            tls.alpn = entries.compactMap { item, path in
                convert(item, at: path, as: Conversion<String>.nonEmptyString.checked { text, _ in
                    text == "http/1.1" ? nil : "unsupported ALPN protocol \"\(text)\"; this version speaks http/1.1 only"
                }).value
            }
        }
        tls.reloadInterval = value(fields, "reload_interval", .durationOrZero).or(tls.reloadInterval)
        if let hsts = section(fields, "hsts", ConfigSchema.hsts) {
            var config = HSTSConfig()
            config.maxAge = value(hsts, "max_age", .durationOrZero).or(config.maxAge)
            config.includeSubdomains = value(hsts, "include_subdomains", .boolean).or(config.includeSubdomains)
            config.preload = value(hsts, "preload", .boolean).or(config.preload)
            tls.hsts = config
        }
        return tls
    }

    func readHTTPSRedirect(_ listener: Fields) -> HTTPSRedirectConfig? {
        guard let node = listener.node("https_redirect") else { return nil }
        // `https_redirect: true` is the common case: every default.
        if case .scalar(let text) = node.kind, let on = Bool(text.lowercased()) { return on ? HTTPSRedirectConfig() : nil }
        guard let fields = section(listener, "https_redirect", ConfigSchema.httpsRedirect) else { return nil }
        var redirect = HTTPSRedirectConfig()
        redirect.port = value(fields, "port", .integer(in: 1...65535)).or(redirect.port)
        redirect.status = value(fields, "status", Conversion<Int>.integer(in: 300...399).checked { code, _ in
            [301, 302, 307, 308].contains(code) ? nil : "expected 301, 302, 307 or 308, got \(code)"
        }).or(redirect.status)
        return redirect
    }

    func readClusterTLS(_ cluster: Fields) -> ClusterTLSConfig? {
        guard let node = cluster.node("tls") else { return nil }
        // `tls: true` is HTTPS with every default.
        if case .scalar(let text) = node.kind, let on = Bool(text.lowercased()) { return on ? ClusterTLSConfig() : nil }
        guard let fields = section(cluster, "tls", ConfigSchema.clusterTLS) else { return nil }
        var tls = ClusterTLSConfig()
        tls.serverName = value(fields, "server_name", .serverName).value
        tls.verify = value(fields, "verify", .boolean).or(tls.verify)
        tls.caFile = value(fields, "ca_file", .nonEmptyString).value.map(resolved)
        tls.clientCert = value(fields, "client_cert", .nonEmptyString).value.map(resolved)
        tls.clientKey = value(fields, "client_key", .nonEmptyString).value.map(resolved)
        tls.minVersion = value(fields, "min_version", .enumeration("TLS version")).or(tls.minVersion)
        if (tls.clientCert == nil) != (tls.clientKey == nil) {
            let missing = tls.clientCert == nil ? "client_cert" : "client_key"
            report("client_cert and client_key go together: \(missing) is missing", at: fields.path, line: fields.line)
        }
        return tls
    }

    func readClusterHTTP2(_ cluster: Fields) -> ClusterHTTP2Config? {
        guard let node = cluster.node("http2") else { return nil }
        // `http2: true` is HTTP/2 with every default.
        if case .scalar(let text) = node.kind, let on = Bool(text.lowercased()) { return on ? ClusterHTTP2Config() : nil }
        guard let fields = section(cluster, "http2", ConfigSchema.clusterHTTP2) else { return nil }
        var http2 = ClusterHTTP2Config()
        http2.maxConcurrentStreams = value(fields, "max_concurrent_streams", .integer(in: 1...Int(Int32.max))).or(http2.maxConcurrentStreams)
        // RFC 9113 §6.9.2: at most 2^31-1; below 16KiB a stream could not take one full frame.
        http2.initialWindowSize = value(fields, "initial_window_size", Conversion<Int>.byteSize(atLeast: 16 * 1024).checked { size, _ in
            size <= Int(Int32.max) ? nil : "expected at most 2147483647 bytes (RFC 9113), got \(size)"
        }).or(http2.initialWindowSize)
        // A section spelled out is on unless it says otherwise.
        return value(fields, "enabled", .boolean).or(true) ? http2 : nil
    }

    func readHTTP2(_ listener: Fields) -> HTTP2Config {
        var http2 = HTTP2Config()
        guard let fields = section(listener, "http2", ConfigSchema.http2) else { return http2 }
        http2.enabled = value(fields, "enabled", .boolean).or(http2.enabled)
        http2.maxConcurrentStreams = value(fields, "max_concurrent_streams", .integer(in: 1...Int(Int32.max))).or(http2.maxConcurrentStreams)
        http2.maxHeaderListSize = value(fields, "max_header_list_size", .byteSize(atLeast: 1024)).or(http2.maxHeaderListSize)
        http2.maxResets = value(fields, "max_resets", .integer(in: 1...Int(Int32.max))).or(http2.maxResets)
        http2.resetWindow = value(fields, "reset_window", .duration).or(http2.resetWindow)
        return http2
    }

    func readForwardProxy(_ listener: Fields) -> ForwardProxyConfig? {
        guard let fields = section(listener, "forward_proxy", ConfigSchema.forwardProxy) else { return nil }
        var proxy = ForwardProxyConfig()
        proxy.allowClients = (items(fields, "allow_clients") ?? []).compactMap { convert($0.node, at: $0.path, as: .cidr).value }
        proxy.allowPrivate = (items(fields, "allow_private") ?? []).compactMap { convert($0.node, at: $0.path, as: .cidr).value }
        if let hosts = items(fields, "allow_hosts") {
            proxy.allowHosts = hosts.compactMap { item, path in
                convert(item, at: path, as: Conversion<String>.nonEmptyString.checked { text, _ in
                    let bare = text.hasPrefix("*.") ? String(text.dropFirst(2)) : text
                    if text == "*" || CIDR.parseAddress(text) != nil { return nil }
                    if case .failure = Conversion<String>.serverName.convert(bare) {
                        return "expected a host (example.com), *.example.com, an IP address or *, got \"\(text)\""
                    }
                    return nil
                }).value?.lowercased()
            }
        }
        if let ports = items(fields, "allow_ports") {
            proxy.allowPorts = ports.compactMap { convert($0.node, at: $0.path, as: .integer(in: 1...65535)).value }
        }
        for (item, path) in items(fields, "users") ?? [] {
            guard let user = self.fields(item, at: path, allowed: ConfigSchema.forwardProxyUser) else { continue }
            let name = required(user, "name", Conversion<String>.nonEmptyString.checked { text, _ in
                text.contains(":") ? "a user name cannot contain \":\" (Basic credentials are name:password)" : nil
            }).value
            let password = required(user, "password", .nonEmptyString).value
            if let name, let password { proxy.users.append(ForwardProxyUser(name: name, password: password)) }
        }
        return proxy
    }

    /// `file` relative to the config file's folder unless absolute. The file is read when the
    /// listener starts (and by `sluice check`), where a missing or bad one is reported.
    private func resolved(_ file: String) -> String {
        let base = self.file.contains("/") ? String(self.file[..<self.file.lastIndex(of: "/")!]) : ""
        return file.hasPrefix("/") || base.isEmpty ? file : base + "/" + file
    }
}

extension Conversion where T == String {
    /// An SNI name: a DNS name, lowercased, optionally `*.` and then a name.
    static var serverName: Conversion<String> {
        Conversion(expected: "a host name such as example.com or *.example.com") { text in
            let name = text.lowercased()
            let bare = name.hasPrefix("*.") ? String(name.dropFirst(2)) : name
            let valid = !bare.isEmpty && bare.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                !label.isEmpty && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
            }
            return valid ? .success(name) : rejected("a host name such as example.com or *.example.com", text)
        }
    }
}
