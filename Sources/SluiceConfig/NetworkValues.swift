/// Conversions for the network- and HTTP-shaped values: addresses, hosts, tokens, methods.

enum HTTPToken {
    /// RFC 9110 `token`: header names and methods.
    static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "A")...UInt8(ascii: "Z"):
                true
            default:
                "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }
}

extension Conversion where T == String {
    /// Where a listener binds: an IP address, or `localhost`.
    static var listenAddress: Conversion<String> {
        let expected = "an IP address such as 0.0.0.0 or ::"
        return Conversion(expected: expected) { text in
            text == "localhost" || CIDR.parseAddress(text) != nil ? .success(text) : rejected(expected, text)
        }
    }

    static var headerName: Conversion<String> {
        string.checked { text, _ in
            HTTPToken.isValid(text) ? nil : "invalid header name \"\(text)\"; expected a token such as X-Request-Id"
        }
    }

    /// A route's host: `example.com`, `*.example.com` or `[::1]`, stored lowercased because
    /// host names compare case-insensitively and the router lowercases the request's Host.
    static var routeHost: Conversion<String> {
        Conversion(expected: "a host name") { text in
            let host = text.lowercased()
            guard isValidRouteHost(host) else {
                return .failure(Substitution.Failure(
                    "invalid host \"\(text)\"; expected a host name such as example.com or *.example.com"))
            }
            return .success(host)
        }
    }

    /// Methods are case-sensitive (RFC 9110 §9.1), so `get` would never match a real GET.
    static var method: Conversion<String> {
        string.checked { text, _ in
            guard HTTPToken.isValid(text) else { return "invalid method \"\(text)\"; expected an HTTP method such as GET" }
            let upper = text.uppercased()
            return text == upper ? nil : "method \"\(text)\" must be uppercase (\"\(upper)\"); HTTP methods are case-sensitive"
        }
    }

    static var pathPrefix: Conversion<String> {
        string.checked { text, _ in text.hasPrefix("/") ? nil : "path_prefix must start with \"/\", got \"\(text)\"" }
    }

    private static func isValidRouteHost(_ host: String) -> Bool {
        if host.hasPrefix("["), host.hasSuffix("]") {
            let inner = String(host.dropFirst().dropLast())
            return inner.contains(":") && CIDR.parseAddress(inner) != nil
        }
        let name = host.hasPrefix("*.") ? host.dropFirst(2) : Substring(host)
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "-"), UInt8(ascii: "_"):
                    true
                default:
                    false
                }
            }
        }
    }
}

/// A backend's `host:port`; the host of `[::1]:9001` is stored as `::1`.
struct HostPort {
    let host: String
    let port: Int
}

extension Conversion where T == HostPort {
    static var backendAddress: Conversion<HostPort> {
        let expected = "host:port such as 127.0.0.1:9001 or [::1]:9001"
        return Conversion(expected: expected) { text in
            guard let (host, portText) = split(text), !host.isEmpty, isValidHost(host),
                  !portText.isEmpty, portText.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let port = Int(portText)
            else { return rejected(expected, text) }
            guard (1...65535).contains(port) else {
                return .failure(Substitution.Failure("port must be between 1 and 65535, got \(port) in \"\(text)\""))
            }
            return .success(HostPort(host: host, port: port))
        }
    }

    private static func split(_ text: String) -> (String, Substring)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            guard CIDR.parseAddress(host)?.count == 16 else { return nil }
            return (host, text[text.index(close, offsetBy: 2)...])
        }
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = String(text[..<colon])
        // An unbracketed IPv6 address is ambiguous: which colon starts the port?
        guard !host.contains(":") else { return nil }
        return (host, text[text.index(after: colon)...])
    }

    private static func isValidHost(_ host: String) -> Bool {
        host.contains(":") || host.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                true
            default:
                false
            }
        }
    }
}
