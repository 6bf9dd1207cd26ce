import SluiceCache

/// Reads the files `DiskEntryEncoder` writes (the format is documented there), trusting
/// nothing: every length is checked against the bytes present and every section against its
/// checksum, so a torn, flipped or foreign file is an error that says why.
enum DiskEntryDecoder {
    /// A whole file: header, metadata and body, both checksums verified.
    static func entry(_ file: [UInt8]) throws(DiskFormatError) -> DiskEntry {
        let header = try DiskFileHeader(parsing: file[...], fileSize: file.count)
        var entry = try metadata(file[...], header: header)
        let body = file[(DiskFileHeader.size + header.metadataLength)...]
        let checksum = CRC32.checksum(body)
        guard checksum == header.bodyChecksum else {
            throw DiskFormatError("body checksum \(hex(checksum)), header says \(hex(header.bodyChecksum))")
        }
        entry.body = Array(body)
        return entry
    }

    /// The entry without its body (left empty), from `prefix`: the file's first
    /// `DiskFileHeader.size + header.metadataLength` bytes at least. Verifies the header
    /// checksum, which covers the fixed header and the metadata.
    static func metadata(_ prefix: ArraySlice<UInt8>, header: DiskFileHeader) throws(DiskFormatError) -> DiskEntry {
        let start = prefix.startIndex
        guard prefix.count >= DiskFileHeader.size + header.metadataLength else { throw DiskFormatError("ends inside the metadata") }
        let metadata = prefix[(start + DiskFileHeader.size)..<(start + DiskFileHeader.size + header.metadataLength)]
        var checksum = CRC32()
        checksum.update(prefix[start..<(start + DiskFileHeader.headerChecksumOffset)])
        checksum.update(metadata)
        guard checksum.checksum == header.headerChecksum else {
            throw DiskFormatError("header checksum \(hex(checksum.checksum)), header says \(hex(header.headerChecksum))")
        }
        return try decodeMetadata(metadata)
    }

    private static func decodeMetadata(_ bytes: ArraySlice<UInt8>) throws(DiskFormatError) -> DiskEntry {
        var reader = ByteReader(bytes)
        let id = try reader.readString()
        let primary = try reader.readString()
        let uri = try reader.readString()
        let status = try reader.read(Int64.self)
        guard let status = Int(exactly: status) else { throw DiskFormatError("status \(status) does not fit an Int") }
        let requestTime = try reader.read(Int64.self)
        let responseTime = try reader.read(Int64.self)
        var fields: [HeaderField] = []
        let fieldCount = try reader.readCount(minimumSize: 8)
        fields.reserveCapacity(fieldCount)
        for _ in 0..<fieldCount {
            let name = try reader.readString()
            fields.append(HeaderField(name: name, value: try reader.readString()))
        }
        let varyNames = try strings(&reader)
        var varyValues: [String?] = []
        for _ in 0..<(try reader.readCount(minimumSize: 1)) {
            switch try reader.read(UInt8.self) {
            case 0: varyValues.append(nil)
            case 1: varyValues.append(try reader.readString())
            case let flag: throw DiskFormatError("vary value flag \(flag)")
            }
        }
        let tags = try strings(&reader)
        guard reader.remaining == 0 else { throw DiskFormatError("\(reader.remaining) bytes after the metadata") }
        return DiskEntry(
            id: id, primary: primary, uri: uri, status: status, headers: HeaderFields(fields),
            requestTime: requestTime, responseTime: responseTime,
            varyNames: varyNames, varyValues: varyValues, tags: tags, body: []
        )
    }

    private static func strings(_ reader: inout ByteReader) throws(DiskFormatError) -> [String] {
        let count = try reader.readCount(minimumSize: 4)
        var strings: [String] = []
        strings.reserveCapacity(count)
        for _ in 0..<count { strings.append(try reader.readString()) }
        return strings
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
