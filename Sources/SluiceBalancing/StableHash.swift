/// XXH64, the 64-bit xxHash of Yann Collet's reference implementation, bit for bit.
///
/// Swift's `Hasher` is seeded per process, so two Sluice instances (or one after a restart)
/// would send the same key to different backends. XXH64 of the same bytes and seed is the same
/// value in every process on every machine, which is what affinity and hash-based balancing need.
public enum XXHash64 {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    /// XXH64 of `bytes`. Reads them in place (no allocation), four 8-byte lanes per 32-byte
    /// stripe, little-endian whatever the host's byte order.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let count = bytes.count
        var offset = 0
        var acc: UInt64
        if count >= 32 {
            var lanes = (seed &+ prime1 &+ prime2, seed &+ prime2, seed, seed &- prime1)
            while offset + 32 <= count {
                lanes.0 = round(lanes.0, lane64(bytes, offset))
                lanes.1 = round(lanes.1, lane64(bytes, offset + 8))
                lanes.2 = round(lanes.2, lane64(bytes, offset + 16))
                lanes.3 = round(lanes.3, lane64(bytes, offset + 24))
                offset += 32
            }
            acc = rotate(lanes.0, 1) &+ rotate(lanes.1, 7) &+ rotate(lanes.2, 12) &+ rotate(lanes.3, 18)
            acc = merge(acc, lanes.0)
            acc = merge(acc, lanes.1)
            acc = merge(acc, lanes.2)
            acc = merge(acc, lanes.3)
        } else {
            acc = seed &+ prime5
        }
        acc &+= UInt64(truncatingIfNeeded: count)

        // The tail: 8-byte lanes, then at most one 4-byte lane, then single bytes.
        while offset + 8 <= count {
            acc ^= round(0, lane64(bytes, offset))
            acc = rotate(acc, 27) &* prime1 &+ prime4
            offset += 8
        }
        if offset + 4 <= count {
            let lane = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            acc ^= UInt64(lane) &* prime1
            acc = rotate(acc, 23) &* prime2 &+ prime3
            offset += 4
        }
        while offset < count {
            acc ^= UInt64(bytes[offset]) &* prime5
            acc = rotate(acc, 11) &* prime1
            offset += 1
        }
        return avalanche(acc)
    }

    /// XXH64 of a byte collection; contiguous storage (arrays, slices) is read in place.
    @inlinable
    public static func hash(_ bytes: some Collection<UInt8>, seed: UInt64 = 0) -> UInt64 {
        if let result = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0), seed: seed) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { hash($0, seed: seed) }
    }

    /// XXH64 of the string's UTF-8 bytes.
    @inlinable
    public static func hash(_ string: String, seed: UInt64 = 0) -> UInt64 {
        // withUTF8 needs a var; on a native string it reads the storage without copying.
        var string = string
        return string.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// XXH64 of the 8 little-endian bytes of `value`: the 8-byte tail path unrolled, for mixing
    /// hashes with each other on the pick path.
    public static func hash(_ value: UInt64, seed: UInt64 = 0) -> UInt64 {
        var acc = seed &+ prime5 &+ 8
        acc ^= round(0, value)
        acc = rotate(acc, 27) &* prime1 &+ prime4
        return avalanche(acc)
    }

    @inline(__always)
    private static func lane64(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    private static func rotate(_ value: UInt64, _ bits: UInt64) -> UInt64 {
        (value &<< bits) | (value &>> (64 &- bits))
    }

    @inline(__always)
    private static func round(_ acc: UInt64, _ lane: UInt64) -> UInt64 {
        rotate(acc &+ lane &* prime2, 31) &* prime1
    }

    @inline(__always)
    private static func merge(_ acc: UInt64, _ lane: UInt64) -> UInt64 {
        (acc ^ round(0, lane)) &* prime1 &+ prime4
    }

    @inline(__always)
    private static func avalanche(_ value: UInt64) -> UInt64 {
        var acc = value
        acc ^= acc &>> 33
        acc &*= prime2
        acc ^= acc &>> 29
        acc &*= prime3
        acc ^= acc &>> 32
        return acc
    }
}
