import SluiceConfig

/// `GET /config`: the typed configuration as loaded, as JSON with Swift's field names, and
/// with secrets redacted: any field named `secret`, `token` or `password`, and the password
/// in a Redis URL.
enum ConfigJSON {
    static let redacted = "[redacted]"
    private static let secretFields: Set<String> = ["secret", "token", "password"]

    static func render(_ config: SluiceConfig) -> String { value(config, field: nil) + "\n" }

    private static func value(_ value: Any, field: String?) -> String {
        if let field, secretFields.contains(field), !isNil(value) { return AccessLog.quoted(redacted) }
        switch value {
        case let text as String: return AccessLog.quoted(text)
        case let flag as Bool: return "\(flag)"
        case let number as Int: return "\(number)"
        case let number as UInt64: return "\(number)"
        case let number as Double: return number.isFinite ? "\(number)" : "null"
        case let duration as Duration: return AccessLog.quoted(text(duration))
        case let cidr as CIDR: return AccessLog.quoted(cidr.description)
        case let range as ClosedRange<Int>: return AccessLog.quoted("\(range.lowerBound)...\(range.upperBound)")
        case let store as LimitStore:
            if case .redis(let url) = store { return AccessLog.quoted(RedisURL.redacted(url)) }
            return AccessLog.quoted("local")
        default: break
        }
        if let raw = value as? any RawRepresentable, let text = raw.rawValue as? String { return AccessLog.quoted(text) }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.map { self.value($0.value, field: field) } ?? "null"
        case .collection, .set, .tuple:
            return "[" + mirror.children.map { self.value($0.value, field: nil) }.joined(separator: ",") + "]"
        case .struct, .class:
            let fields = mirror.children.compactMap { child -> String? in
                guard let label = child.label else { return nil }
                return "\(AccessLog.quoted(label)):\(self.value(child.value, field: label))"
            }
            return "{" + fields.joined(separator: ",") + "}"
        default:
            return AccessLog.quoted(String(describing: value))  // enums with payloads: their config spelling
        }
    }

    private static func isNil(_ value: Any) -> Bool {
        let mirror = Mirror(reflecting: value)
        return mirror.displayStyle == .optional && mirror.children.isEmpty
    }

    private static func text(_ duration: Duration) -> String {
        let nanos = duration.nanoseconds
        if nanos % 1_000_000_000 == 0 { return "\(nanos / 1_000_000_000)s" }
        if nanos % 1_000_000 == 0 { return "\(nanos / 1_000_000)ms" }
        return "\(nanos)ns"
    }
}
