import Foundation
import Yams

/// The format-neutral document both YAML and JSON are turned into before the schema is read.
/// Every scalar stays a string (typing happens in the reader, after `${VAR}` substitution, so
/// `port: ${PORT:-8080}` works), mapping keys keep their file order, and every node keeps its
/// line so issues can point at it.
struct ConfigNode: Sendable {
    enum Kind: Sendable {
        case mapping([Entry])
        case list([ConfigNode])
        case scalar(String)
        case null
    }

    struct Entry: Sendable {
        let key: String
        let keyLine: Int?
        let value: ConfigNode
    }

    let kind: Kind
    let line: Int?

    static func null(line: Int?) -> ConfigNode { ConfigNode(kind: .null, line: line) }

    /// Used by the schema-coverage test to walk the example file.
    subscript(key: String) -> ConfigNode? {
        guard case .mapping(let entries) = kind else { return nil }
        return entries.first(where: { $0.key == key })?.value
    }
}

enum ConfigTree {
    /// Caps the tree so a YAML alias bomb ("billion laughs") cannot exhaust memory.
    static let maximumNodes = 100_000

    /// Parses `text`. A syntax error throws; issues that leave a usable tree (duplicate JSON
    /// keys, where the first wins) are returned so the rest of the file is still checked.
    static func parse(_ text: String, format: ConfigFormat, file: String) throws(ConfigError)
        -> (root: ConfigNode, issues: [ConfigIssue])
    {
        switch format {
        case .json: return try JSONTree.parse(text, file: file)
        case .yaml: return try YAMLTree.parse(text, file: file)
        }
    }

    /// Reports repeated keys, keeping the first. JSON only: Yams rejects duplicates itself.
    static func deduplicated(_ entries: [ConfigNode.Entry], at path: ConfigPath, file: String,
                             issues: inout [ConfigIssue]) -> [ConfigNode.Entry]
    {
        var firstLine: [String: Int?] = [:]
        var kept: [ConfigNode.Entry] = []
        for entry in entries {
            if let line = firstLine[entry.key] {
                let first = line.map { " (first on line \($0))" } ?? ""
                issues.append(ConfigIssue(file: file, line: entry.keyLine, path: path.key(entry.key).description,
                                          message: "duplicate key \"\(entry.key)\"\(first)"))
            } else {
                firstLine[entry.key] = entry.keyLine
                kept.append(entry)
            }
        }
        return kept
    }
}

/// Yams resolves scalar tags with NSRegularExpressions shared by every parse, and on Linux
/// corelibs-foundation's ICU regex is not safe to use from two threads at once (a test run
/// crashed in `uregex_setText` while several tests parsed configs): one YAML parse at a time,
/// process-wide. Configs are parsed at start and on reloads only, so nothing waits in practice.
public enum YAMLParsing {
    private static let lock = NSLock()

    public static func serialized<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// YAML through Yams' composer, which keeps each node's position (`node.mark`).
private enum YAMLTree {
    static func parse(_ text: String, file: String) throws(ConfigError) -> (root: ConfigNode, issues: [ConfigIssue]) {
        let result: Result<(root: ConfigNode, issues: [ConfigIssue]), ConfigError> = YAMLParsing.serialized {
            do throws(ConfigError) { return .success(try parseAlone(text, file: file)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private static func parseAlone(_ text: String, file: String) throws(ConfigError) -> (root: ConfigNode, issues: [ConfigIssue]) {
        let document: Node?
        do {
            document = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(issues: [syntaxIssue(error, file: file)])
        }
        guard let document else { return (.null(line: nil), []) }
        var builder = Builder(file: file)
        let root = try builder.convert(document, at: .root)
        return (root, builder.issues)
    }

    private struct Builder {
        let file: String
        var issues: [ConfigIssue] = []
        var count = 0

        init(file: String) { self.file = file }

        mutating func convert(_ node: Node, at path: ConfigPath) throws(ConfigError) -> ConfigNode {
            count += 1
            let line = node.mark?.line
            guard count <= ConfigTree.maximumNodes else {
                throw ConfigError(issues: [ConfigIssue(
                    file: file, line: line, path: "(root)",
                    message: "document too large (more than \(ConfigTree.maximumNodes) nodes, aliases expanded)")])
            }
            switch node {
            case .scalar(let scalar):
                // Only an unquoted null-like scalar is null; `key: "null"` is the string.
                if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                    return .null(line: line)
                }
                return ConfigNode(kind: .scalar(scalar.string), line: line)
            case .sequence(let sequence):
                var items: [ConfigNode] = []
                for (index, item) in sequence.enumerated() {
                    items.append(try convert(item, at: path.index(index)))
                }
                return ConfigNode(kind: .list(items), line: line)
            case .mapping(let mapping):
                var entries: [ConfigNode.Entry] = []
                for (key, value) in mapping {
                    guard case .scalar(let keyScalar) = key else {
                        issues.append(ConfigIssue(file: file, line: key.mark?.line, path: path.description,
                                                  message: "mapping keys must be plain strings"))
                        continue
                    }
                    let name = keyScalar.string
                    entries.append(ConfigNode.Entry(key: name, keyLine: key.mark?.line,
                                                    value: try convert(value, at: path.key(name))))
                }
                return ConfigNode(kind: .mapping(entries), line: line)
            case .alias(let alias):
                // compose() resolves aliases itself; an unresolved one means an unknown anchor.
                issues.append(ConfigIssue(file: file, line: alias.mark?.line, path: path.description,
                                          message: "unresolved YAML alias"))
                return .null(line: line)
            }
        }
    }

    private static func syntaxIssue(_ error: any Error, file: String) -> ConfigIssue {
        func issue(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> ConfigIssue {
            let prefix = context.map { "\($0.text), " } ?? ""
            return ConfigIssue(file: file, line: mark.line, path: "(root)", message: "invalid YAML: \(prefix)\(problem)")
        }
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _): return issue(context, problem, mark)
        case .parser(let context, let problem, let mark, _): return issue(context, problem, mark)
        case .composer(let context, let problem, let mark, _): return issue(context, problem, mark)
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams rejects these while composing, before a path is known; its mark is the mapping's start.
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return ConfigIssue(file: file, line: context.mark.line, path: "(root)",
                               message: "invalid YAML: duplicate key \(keys) in the mapping starting on this line")
        case .reader(let problem, _, _, _):
            return ConfigIssue(file: file, line: nil, path: "(root)", message: "invalid YAML: \(problem)")
        default:
            return ConfigIssue(file: file, line: nil, path: "(root)", message: "invalid YAML: \(error)")
        }
    }
}
