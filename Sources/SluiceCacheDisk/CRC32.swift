/// CRC-32 as in IEEE 802.3, zlib and PNG (reflected polynomial 0xEDB88320, initial and final
/// value 0xFFFFFFFF). The disk tier checksums what it stores so that a flipped bit or a
/// torn write is caught before a response is served: CRC-32 finds every error burst up to 32
/// bits and misses random damage with odds of 2^-32, at a fraction of SHA-256's cost. It is
/// not a defence against someone who can write the cache directory, which is trusted.
struct CRC32: Sendable {
    private(set) var value: UInt32 = 0xFFFF_FFFF

    init() {}

    mutating func update(_ bytes: some Sequence<UInt8>) {
        var crc = value
        Self.table.withUnsafeBufferPointer { table in
            let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
                for byte in buffer { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            }
            if handled == nil {
                for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            }
        }
        value = crc
    }

    /// The checksum of everything fed so far.
    var checksum: UInt32 { value ^ 0xFFFF_FFFF }

    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.checksum
    }

    /// The remainder of each byte value, one byte at a time.
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        return crc
    }
}
