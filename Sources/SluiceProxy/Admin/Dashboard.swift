import NIOHTTP1

/// The dashboard's three files (Admin/Dashboard/, embedded in the binary by SwiftPM), served
/// as they are: no build step, nothing loaded from elsewhere.
enum Dashboard {
    static let html = "text/html; charset=utf-8"
    static let css = "text/css; charset=utf-8"
    static let javascript = "text/javascript; charset=utf-8"
    static let types: Set<String> = [html, css, javascript]

    /// The page may run only its own script and style and talk only to this listener; a new
    /// binary's page is never served stale from a browser cache.
    static let headers: [(String, String)] = [
        ("Cache-Control", "no-cache"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy",
         "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
    ]

    // Decoded once, not per request.
    private static let page = String(decoding: PackageResources.index_html, as: UTF8.self)
    private static let style = String(decoding: PackageResources.dashboard_css, as: UTF8.self)
    private static let script = String(decoding: PackageResources.dashboard_js, as: UTF8.self)

    static func asset(_ path: String) -> (HTTPResponseStatus, String, String) {
        switch path {
        case "/dashboard/dashboard.css": (.ok, css, style)
        case "/dashboard/dashboard.js": (.ok, javascript, script)
        default: (.ok, html, page)
        }
    }
}
