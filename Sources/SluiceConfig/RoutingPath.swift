/// The path that routes are matched against, as nginx computes it before choosing a location:
/// the request-target's path with percent-encoded unreserved characters decoded (so `%2e` is
/// `.`), repeated slashes merged, and `.` / `..` segments resolved (RFC 3986 §5.2.4). Without
/// it `/public/../admin` would be routed by its `/public` prefix while the backend serves
/// `/admin`. The request itself is forwarded as the client sent it.
public enum RoutingPath {
    /// nil when the path is not usable: `..` climbing above the root (nginx answers 400).
    public static func normalize(_ target: String) -> String? {
        var path = Substring(target)
        if let end = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<end] }
        if !path.hasPrefix("/") {
            // absolute-form (`http://host/path`): route on its path; `*` and the like as they are.
            guard path.hasPrefix("http://") || path.hasPrefix("https://") else { return String(path) }
            let afterAuthority = path.drop(while: { $0 != ":" }).dropFirst(3)
            path = afterAuthority.firstIndex(of: "/").map { afterAuthority[$0...] } ?? "/"
        }
        if isAlreadyNormal(path.utf8) { return String(path) }

        var decoded: [UInt8] = []
        decoded.reserveCapacity(path.utf8.count)
        var bytes = Array(path.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%"), bytes.count >= 2,
               let high = hexValue(bytes[bytes.startIndex]), let low = hexValue(bytes[bytes.startIndex + 1]),
               isUnreserved(high << 4 | low) {
                decoded.append(high << 4 | low)
                bytes = bytes.dropFirst(2)
            } else {
                decoded.append(byte)
            }
        }

        var segments: [ArraySlice<UInt8>] = []
        let parts = decoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in parts.enumerated() {
            let isLast = index == parts.count - 1
            switch segment.count {
            case 0 where !isLast:
                continue  // merged slash
            case 1 where segment.first == UInt8(ascii: "."):
                if isLast { segments.append([]) }
            case 2 where segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]):
                guard !segments.isEmpty else { return nil }
                segments.removeLast()
                if isLast { segments.append([]) }
            default:
                segments.append(segment)
            }
        }
        var out: [UInt8] = []
        for segment in segments {
            out.append(UInt8(ascii: "/"))
            out.append(contentsOf: segment)
        }
        return out.isEmpty ? "/" : String(decoding: out, as: UTF8.self)
    }

    /// The common case, checked without allocating: nothing to decode, merge or resolve.
    private static func isAlreadyNormal(_ path: Substring.UTF8View) -> Bool {
        var previous: UInt8 = 0
        for byte in path {
            if byte == UInt8(ascii: "%") { return false }
            if previous == UInt8(ascii: "/"), byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".") { return false }
            previous = byte
        }
        return true
    }

    /// The value of one hex digit (either case), for percent-decoding.
    public static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
