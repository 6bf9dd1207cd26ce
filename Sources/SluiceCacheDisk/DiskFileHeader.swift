/// The fixed 29 bytes that open every entry file (the layout is in `DiskEntryEncoder`): enough
/// to tell a Sluice file from a foreign one, and a torn one from a whole one, before reading
/// the rest.
struct DiskFileHeader: Equatable {
    static let magic: [UInt8] = Array("SLUICE\0".utf8)
    static let version: UInt16 = 1
    /// Magic 7, version 2, metadata length 4, body length 8, two checksums 4 each.
    static let size = 29
    /// Where the header checksum sits; it covers every byte before it, then the metadata.
    static let headerChecksumOffset = 25
    static let bodyChecksumOffset = 21

    var metadataLength: Int
    var bodyLength: Int
    var bodyChecksum: UInt32
    var headerChecksum: UInt32

    /// The file's whole size as the header claims it.
    var fileSize: Int { Self.size + metadataLength + bodyLength }

    func write(to writer: inout ByteWriter) throws(DiskFormatError) {
        writer.append(contentsOf: Self.magic)
        writer.append(Self.version)
        try writer.appendCount(metadataLength)
        writer.append(UInt64(bodyLength))
        writer.append(bodyChecksum)
        writer.append(headerChecksum)
    }

    /// Parses the first `size` bytes of `bytes`: the magic and version must be ours, and the
    /// lengths must add up to `fileSize`, the size the file really has.
    init(parsing bytes: ArraySlice<UInt8>, fileSize: Int) throws(DiskFormatError) {
        guard bytes.count >= Self.size else { throw DiskFormatError("\(fileSize) bytes is shorter than the \(Self.size)-byte header") }
        var reader = ByteReader(bytes)
        guard try reader.read(count: Self.magic.count).elementsEqual(Self.magic) else { throw DiskFormatError("no SLUICE magic") }
        let version = try reader.read(UInt16.self)
        guard version == Self.version else { throw DiskFormatError("format version \(version), expected \(Self.version)") }
        metadataLength = Int(try reader.read(UInt32.self))
        let body = try reader.read(UInt64.self)
        bodyChecksum = try reader.read(UInt32.self)
        headerChecksum = try reader.read(UInt32.self)
        // Checked before it becomes an Int, so a corrupt length cannot overflow the sum.
        guard body <= UInt64(Int.max - Self.size - metadataLength), Self.size + metadataLength + Int(body) == fileSize else {
            throw DiskFormatError("header says \(Self.size) + \(metadataLength) + \(body) bytes, file has \(fileSize)")
        }
        bodyLength = Int(body)
    }

    init(metadataLength: Int, bodyLength: Int, bodyChecksum: UInt32, headerChecksum: UInt32) {
        self.metadataLength = metadataLength
        self.bodyLength = bodyLength
        self.bodyChecksum = bodyChecksum
        self.headerChecksum = headerChecksum
    }
}
