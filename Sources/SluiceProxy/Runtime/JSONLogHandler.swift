import Logging

/// `log.format: json`: each log line one JSON object — time, level, label, message, then the
/// metadata's keys — written whole by `write` (the CLI passes a single write(2) to stderr).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let write: @Sendable (String) -> Void

    public init(label: String, level: Logger.Level, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, event in event }
        write(Self.line(time: AccessLog.timestamp(), level: event.level, label: label, message: event.message.description,
                        metadata: merged) + "\n")
    }

    /// The keys sorted, so that equal events give equal lines.
    static func line(time: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var line = "{\"time\":\"\(time)\",\"level\":\"\(level.rawValue)\",\"label\":\(AccessLog.quoted(label))"
        line += ",\"message\":\(AccessLog.quoted(message))"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !["time", "level", "label", "message"].contains(key) {
            line += ",\(AccessLog.quoted(key)):\(AccessLog.quoted("\(value)"))"
        }
        return line + "}"
    }
}
