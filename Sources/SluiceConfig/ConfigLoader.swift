#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The two accepted file formats; both have the same schema.
public enum ConfigFormat: Sendable {
    case yaml
    case json

    /// By extension (`.json`, `.yaml`, `.yml`), else by content: JSON if the first
    /// non-whitespace character is `{`.
    public static func detect(source: String, text: String) -> ConfigFormat {
        let lowered = source.lowercased()
        if lowered.hasSuffix(".json") { return .json }
        if lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml") { return .yaml }
        let first = text.unicodeScalars.first { !$0.properties.isWhitespace && $0 != "\u{FEFF}" }
        return first == "{" ? .json : .yaml
    }
}

/// Turns a configuration file into a validated `SluiceConfig`, or a `ConfigError` listing every
/// problem found, each with file, line and key path.
public enum ConfigLoader {
    public static func load(
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> SluiceConfig {
        let text = try readFile(path)
        return try parse(text, source: path, environment: environment)
    }

    /// `source` names the text in issues and, when `format` is nil, picks the format by extension.
    public static func parse(
        _ text: String,
        source: String,
        format: ConfigFormat? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> SluiceConfig {
        let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        let (root, treeIssues) = try ConfigTree.parse(
            body, format: format ?? ConfigFormat.detect(source: source, text: body), file: source)
        let reader = ConfigReader(file: source, environment: environment)
        reader.add(treeIssues)
        let config = reader.readConfig(root)
        guard reader.issues.isEmpty else { throw ConfigError(issues: documentOrder(reader.issues)) }
        return config
    }

    /// Issues sorted by line (stable), so they read top to bottom whatever order the sections
    /// were checked in.
    private static func documentOrder(_ issues: [ConfigIssue]) -> [ConfigIssue] {
        issues.enumerated()
            .sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }
            .map(\.element)
    }

    private static func readFile(_ path: String) throws(ConfigError) -> String {
        switch readText(path) {
        case .success(let text): return text
        case .failure(let failure):
            throw ConfigError(issues: [ConfigIssue(file: path, line: nil, path: "(root)", message: "cannot read file: \(failure.reason)")])
        }
    }

    struct ReadFailure: Error {
        let reason: String
    }

    /// POSIX reads so the issue can give the system's reason (no such file, permission denied);
    /// also for the files a config names (JWT keys, the region table).
    static func readText(_ path: String) -> Result<String, ReadFailure> {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return .failure(ReadFailure(reason: String(cString: strerror(errno)))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadFailure(reason: String(cString: strerror(errno))))
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        guard let text = String(bytes: bytes, encoding: .utf8) else { return .failure(ReadFailure(reason: "not valid UTF-8")) }
        return .success(text)
    }
}
