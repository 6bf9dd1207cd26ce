/// What a response to an unsafe request invalidates (RFC 9111 §4.4).
public enum Invalidation {
    /// The methods RFC 9110 §9.2.1 defines as safe. Any other method, including one the proxy
    /// does not know, counts as unsafe: §4.4 covers "methods whose safety is unknown".
    public static let safeMethods: Set<String> = ["GET", "HEAD", "OPTIONS", "TRACE"]

    /// The URIs whose stored responses must be removed (or marked invalid) after `method` on
    /// `target` was answered with `status`: none for a safe method or an error (§4.4 acts on
    /// 2xx and 3xx only); otherwise the target URI, then Location and Content-Location
    /// resolved against it (RFC 3986 §5.2) when they are of the same origin (scheme, host and
    /// port) as the target, so that a response cannot purge another site's entries.
    /// Each URI appears once, in that order.
    public static func invalidatedURIs(method: String, target: TargetURI, status: Int, response: HeaderFields) -> [TargetURI] {
        guard !safeMethods.contains(method), (200...399).contains(status) else { return [] }
        var uris = [target]
        for name in ["Location", "Content-Location"] {
            guard let value = response.first(name),
                  let uri = target.resolving(String(FieldSyntax.trimmed(Substring(value)))),
                  uri.origin == target.origin, !uris.contains(uri) else { continue }
            uris.append(uri)
        }
        return uris
    }
}
