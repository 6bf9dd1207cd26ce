/// Appends fixed-width integers little-endian and strings length-prefixed: the disk format's
/// only two shapes, written out byte by byte so that the layout does not depend on the host.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func append(_ value: UInt8) { bytes.append(value) }

    mutating func append<Integer: FixedWidthInteger>(_ value: Integer) {
        for shift in stride(from: 0, to: Integer.bitWidth, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }

    mutating func append(contentsOf raw: some Collection<UInt8>) { bytes.append(contentsOf: raw) }

    /// A UInt32 count, checked: a section longer than 4 GiB cannot be written in this format.
    mutating func appendCount(_ count: Int) throws(DiskFormatError) {
        guard let count = UInt32(exactly: count) else { throw DiskFormatError("a length of \(count) does not fit in 32 bits") }
        append(count)
    }

    /// UTF-8 bytes after a UInt32 byte count.
    mutating func append(string: String) throws(DiskFormatError) {
        let utf8 = string.utf8
        try appendCount(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    /// Overwrites bytes written earlier (the fixed header's checksums, known last).
    mutating func overwrite(at offset: Int, with value: UInt32) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (index * 8)) }
    }
}

/// Reads what `ByteWriter` wrote, and nothing past the end it is given: every read is checked,
/// so a truncated or corrupt section is an error, never a crash or a huge allocation.
struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private(set) var offset: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - offset }

    mutating func read<Integer: FixedWidthInteger>(_: Integer.Type = Integer.self) throws(DiskFormatError) -> Integer {
        let width = Integer.bitWidth / 8
        guard remaining >= width else { throw DiskFormatError("ends inside a \(width)-byte integer") }
        var value: Integer = 0
        for index in 0..<width { value |= Integer(truncatingIfNeeded: bytes[offset + index]) << (index * 8) }
        offset += width
        return value
    }

    func peek(_ count: Int) throws(DiskFormatError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw DiskFormatError("ends \(count - remaining) bytes short") }
        return bytes[offset..<offset + count]
    }

    mutating func read(count: Int) throws(DiskFormatError) -> ArraySlice<UInt8> {
        let slice = try peek(count)
        offset += count
        return slice
    }

    /// A UInt32 count of items each at least `minimumSize` bytes long, checked against what is
    /// left so that a corrupt count cannot make the caller reserve gigabytes.
    mutating func readCount(minimumSize: Int) throws(DiskFormatError) -> Int {
        let count = Int(try read(UInt32.self))
        guard count * max(minimumSize, 1) <= remaining else { throw DiskFormatError("a count of \(count) exceeds the section") }
        return count
    }

    /// A UInt32 byte count and that many bytes of valid UTF-8.
    mutating func readString() throws(DiskFormatError) -> String {
        let length = Int(try read(UInt32.self))
        let utf8 = try read(count: length)
        guard let string = String(validating: utf8, as: UTF8.self) else { throw DiskFormatError("a string is not valid UTF-8") }
        return string
    }
}

/// Why bytes are not a valid entry file, in words for the log.
struct DiskFormatError: Error, Equatable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
