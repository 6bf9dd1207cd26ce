/// Problems found while loading a configuration. Loading collects every issue it can in one
/// pass, so `sluice check` shows them all at once rather than one per run.

/// One problem, located by file, line (when the format knows it) and key path.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    /// Key path such as `routes[2].cluster`; `(root)` for the document itself.
    public let path: String
    public let message: String

    public init(file: String, line: Int?, path: String, message: String) {
        self.file = file
        self.line = line
        self.path = path
        self.message = message
    }

    /// `<file>:<line>: <path>: <message>`, or `<file>: <path>: <message>` without a line.
    public var description: String {
        if let line { return "\(file):\(line): \(path): \(message)" }
        return "\(file): \(path): \(message)"
    }
}

public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let issues: [ConfigIssue]

    public init(issues: [ConfigIssue]) { self.issues = issues }

    /// One issue per line.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// A key path while reading, rendered as `listeners[0].port`.
struct ConfigPath: Sendable, CustomStringConvertible {
    private let text: String

    static let root = ConfigPath(text: "")

    private init(text: String) { self.text = text }

    func key(_ name: String) -> ConfigPath { ConfigPath(text: text.isEmpty ? name : "\(text).\(name)") }

    func index(_ position: Int) -> ConfigPath { ConfigPath(text: "\(text)[\(position)]") }

    var description: String { text.isEmpty ? "(root)" : text }
}
