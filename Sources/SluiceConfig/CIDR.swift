#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network such as `10.0.0.0/8` or `2001:db8::/32`, used to decide which peers
/// are trusted proxies. Stored as network-order bytes with the host bits zeroed, so `contains`
/// is a byte comparison.
public struct CIDR: Sendable, Equatable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order, host bits zero.
    public let bytes: [UInt8]
    public let prefixLength: Int

    /// Parses `address/prefix`, or a bare address meaning a single host (/32 or /128).
    /// Host bits set in the address are cleared (`10.1.2.3/8` is `10.0.0.0/8`).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = CIDR.parseAddress(String(parts[0])) else { return nil }
        let maximum = address.count * 8
        var length = maximum
        if parts.count == 2 {
            let digits = parts[1]
            // Int() would also take "+8"; a prefix is plain digits only.
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                  let value = Int(digits), value <= maximum
            else { return nil }
            length = value
        }
        self.bytes = CIDR.masked(address, to: length)
        self.prefixLength = length
    }

    /// Whether `address` (4 or 16 bytes) lies in this network. An IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`) is compared as the IPv4 address it carries, and an IPv4 address
    /// against an IPv6 network as its mapped form, since dual-stack sockets report either.
    public func contains(_ address: [UInt8]) -> Bool {
        var candidate = address
        if bytes.count == 4, address.count == 16 {
            guard address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF else { return false }
            candidate = Array(address[12..<16])
        } else if bytes.count == 16, address.count == 4 {
            candidate = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + address
        }
        guard candidate.count == bytes.count else { return false }
        return CIDR.masked(candidate, to: prefixLength) == bytes
    }

    /// Parses a bare IPv4 (`192.0.2.1`) or IPv6 (`2001:db8::1`) address into 4 or 16 bytes.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        let isIPv6 = text.contains(":")
        var buffer = [UInt8](repeating: 0, count: 16)
        let result = buffer.withUnsafeMutableBytes { raw in
            inet_pton(isIPv6 ? AF_INET6 : AF_INET, text, raw.baseAddress)
        }
        guard result == 1 else { return nil }
        return isIPv6 ? buffer : Array(buffer[0..<4])
    }

    /// `10.0.0.0/8`, `2001:db8::/32`.
    public var description: String {
        var output = [CChar](repeating: 0, count: 64)
        var input = bytes
        let text: String? = input.withUnsafeMutableBytes { raw in
            output.withUnsafeMutableBufferPointer { out in
                guard inet_ntop(bytes.count == 4 ? AF_INET : AF_INET6, raw.baseAddress, out.baseAddress,
                                socklen_t(out.count)) != nil
                else { return nil }
                return String(cString: out.baseAddress!)
            }
        }
        return "\(text ?? "?")/\(prefixLength)"
    }

    /// `address` with every bit after the first `length` cleared.
    public static func masked(_ address: [UInt8], to length: Int) -> [UInt8] {
        var result = address
        for index in result.indices {
            let bitsBefore = index * 8
            if bitsBefore >= length {
                result[index] = 0
            } else if length - bitsBefore < 8 {
                result[index] &= UInt8(truncatingIfNeeded: 0xFF << (8 - (length - bitsBefore)))
            }
        }
        return result
    }
}
