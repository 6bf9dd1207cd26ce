/// Parsing of the two unit-bearing value kinds in the configuration: durations and byte sizes.
/// Both are exact integer arithmetic (no floating point), so `1.5s` is exactly 1500ms.

enum Units {
    /// `250ms`, `5s`, `2m`, `1h`, `1.5s`. A bare number is rejected: a unit-less timeout is the
    /// classic misconfiguration (seconds or milliseconds?).
    static func duration(_ text: String) -> Duration? {
        let units: [(suffix: String, nanoseconds: Int64)] = [
            ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
        ]
        // "ms" is checked before "m" and "s" so "250ms" is not read as 250m + "s".
        guard let unit = units.first(where: { text.hasSuffix($0.suffix) }) else { return nil }
        let number = text.dropLast(unit.suffix.count)
        let parts = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = digits(parts[0]) else { return nil }
        var total = whole.multipliedReportingOverflow(by: unit.nanoseconds)
        guard !total.overflow else { return nil }
        if parts.count == 2 {
            let fractionText = parts[1]
            guard fractionText.count <= 9, let fraction = digits(fractionText) else { return nil }
            var scale: Int64 = 1
            for _ in 0..<fractionText.count { scale *= 10 }
            let part = fraction.multipliedReportingOverflow(by: unit.nanoseconds)
            guard !part.overflow else { return nil }
            total = total.partialValue.addingReportingOverflow(part.partialValue / scale)
            guard !total.overflow else { return nil }
        }
        return .nanoseconds(total.partialValue)
    }

    /// Plain bytes (`16384`), or with a suffix: `B`; `KiB`/`MiB`/`GiB` and nginx's `k`/`m`/`g`
    /// (either case) as powers of 1024; `KB`/`MB`/`GB` as powers of 1000.
    static func byteSize(_ text: String) -> Int? {
        let units: [(suffix: String, multiplier: Int64)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
            ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000),
            ("B", 1),
            ("k", 1 << 10), ("K", 1 << 10), ("m", 1 << 20), ("M", 1 << 20), ("g", 1 << 30), ("G", 1 << 30),
        ]
        let unit = units.first(where: { text.hasSuffix($0.suffix) }) ?? ("", 1)
        guard let value = digits(text.dropLast(unit.suffix.count)) else { return nil }
        let total = value.multipliedReportingOverflow(by: unit.multiplier)
        guard !total.overflow, let result = Int(exactly: total.partialValue) else { return nil }
        return result
    }

    /// Decimal digits only; Int64() alone would accept a sign.
    private static func digits(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }
}

extension Duration {
    /// Whole nanoseconds, clamped at zero, for policy code that counts time in UInt64.
    public var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }
}
