/// Reads a `ConfigNode` tree against the schema, tracking the key path so every issue names
/// exactly where it is. Each getter records an issue and returns `.invalid` instead of
/// stopping, so one pass reports everything; callers fall back to defaults on `.invalid`,
/// which keeps one mistake from cascading into others.
final class ConfigReader {
    let file: String
    let environment: [String: String]
    private(set) var issues: [ConfigIssue] = []

    init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    func report(_ message: String, at path: ConfigPath, line: Int?) {
        issues.append(ConfigIssue(file: file, line: line, path: path.description, message: message))
    }

    func add(_ more: [ConfigIssue]) { issues += more }

    /// A mapping whose keys have been checked against the schema. Null values count as absent,
    /// so `pool:` with nothing under it means "defaults".
    struct Fields {
        let path: ConfigPath
        let line: Int?
        private let allowed: [String]
        private let entries: [String: ConfigNode]

        fileprivate init(path: ConfigPath, line: Int?, allowed: [String], entries: [String: ConfigNode]) {
            self.path = path
            self.line = line
            self.allowed = allowed
            self.entries = entries
        }

        func node(_ key: String) -> ConfigNode? {
            // Reading a key the schema does not list would let it drift from ConfigSchema.
            assert(allowed.contains(key), "\(key) is not in the schema at \(path)")
            guard let node = entries[key] else { return nil }
            if case .null = node.kind { return nil }
            return node
        }
    }

    /// Checks that `node` is a mapping and reports keys not in `allowed`. `restricted` maps
    /// keys that are valid elsewhere to the message explaining why not here.
    func fields(_ node: ConfigNode, at path: ConfigPath, allowed: [String],
                restricted: [String: String] = [:]) -> Fields?
    {
        guard case .mapping(let entries) = node.kind else {
            report("expected a mapping", at: path, line: node.line)
            return nil
        }
        var known: [String: ConfigNode] = [:]
        for entry in entries {
            if allowed.contains(entry.key) {
                known[entry.key] = entry.value
            } else if let reason = restricted[entry.key] {
                report(reason, at: path.key(entry.key), line: entry.keyLine)
            } else {
                report(Self.unknownKeyMessage(entry.key, known: allowed), at: path.key(entry.key), line: entry.keyLine)
            }
        }
        return Fields(path: path, line: node.line, allowed: allowed, entries: known)
    }

    /// The items of a list, or nil (reported) when the node is something else.
    func list(_ node: ConfigNode, at path: ConfigPath) -> [ConfigNode]? {
        guard case .list(let items) = node.kind else {
            report("expected a list", at: path, line: node.line)
            return nil
        }
        return items
    }

    /// Converts a scalar node, substituting `${VAR}` first.
    func convert<T>(_ node: ConfigNode, at path: ConfigPath, as conversion: Conversion<T>) -> Lookup<T> {
        let kind: String
        switch node.kind {
        case .scalar(let raw):
            switch Substitution.apply(raw, environment: environment) {
            case .failure(let failure):
                report(failure.message, at: path, line: node.line)
                return .invalid
            case .success(let text):
                switch conversion.convert(text) {
                case .success(let value): return .value(value)
                case .failure(let failure):
                    report(failure.message, at: path, line: node.line)
                    return .invalid
                }
            }
        case .list: kind = "a list"
        case .mapping: kind = "a mapping"
        case .null: kind = "nothing"
        }
        report("expected \(conversion.expected), got \(kind)", at: path, line: node.line)
        return .invalid
    }

    func value<T>(_ fields: Fields, _ key: String, _ conversion: Conversion<T>) -> Lookup<T> {
        guard let node = fields.node(key) else { return .absent }
        return convert(node, at: fields.path.key(key), as: conversion)
    }

    /// Like `value`, but reports `missing required key` when absent.
    func required<T>(_ fields: Fields, _ key: String, _ conversion: Conversion<T>) -> Lookup<T> {
        let result = value(fields, key, conversion)
        if case .absent = result {
            report("missing required key \"\(key)\"", at: fields.path, line: fields.line)
            return .invalid
        }
        return result
    }

    static func unknownKeyMessage(_ key: String, known: [String]) -> String {
        guard let suggestion = closest(to: key, in: known) else { return "unknown key \"\(key)\"" }
        return "unknown key \"\(key)\"; did you mean \"\(suggestion)\"?"
    }

    /// The known key within edit distance 2 (and closer than the key's own length, so short
    /// gibberish suggests nothing); the first listed wins a tie.
    static func closest(to key: String, in known: [String]) -> String? {
        var best: (key: String, distance: Int)?
        for candidate in known {
            let distance = levenshtein(key, candidate)
            if distance <= 2, distance < key.count, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.key
    }

    static func levenshtein(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// A read that distinguishes "not given" (use the default) from "given but wrong" (already
/// reported; use the default only to keep reading).
enum Lookup<T> {
    case absent
    case invalid
    case value(T)

    var value: T? {
        if case .value(let value) = self { return value }
        return nil
    }

    func or(_ fallback: T) -> T { value ?? fallback }
}
