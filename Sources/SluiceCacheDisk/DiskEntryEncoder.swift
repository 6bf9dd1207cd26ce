import SluiceCache

/// Writes a `DiskEntry` as one file's bytes.
///
/// The format, version 1. Little-endian throughout; no padding.
///
///     offset   size  field
///     0        7     magic "SLUICE\0"
///     7        2     format version, UInt16 = 1
///     9        4     metadata length M, UInt32
///     13       8     body length B, UInt64
///     21       4     body checksum: CRC-32 (IEEE) of the body
///     25       4     header checksum: CRC-32 of bytes 0..<25, then of the metadata
///     29       M     metadata
///     29 + M   B     body
///
/// A file is exactly 29 + M + B bytes; any other size is torn or foreign.
///
/// The metadata, in this order, where a string is a UInt32 byte count and that many bytes of
/// UTF-8, and a list is a UInt32 item count and the items:
///
///     id, primary, uri                 string each
///     status                           Int64
///     requestTime, responseTime        Int64 each (Unix seconds)
///     headers                          list of (name string, value string), in order
///     varyNames                        list of string
///     varyValues                       list of (UInt8 0 = absent, or UInt8 1 then string)
///     tags                             list of string
///
/// Nothing may follow the last tag inside M. Two checksums rather than one so that the index
/// rebuild at start-up can read only the first 29 + M bytes of each file and still trust
/// every byte it read (the lengths, the keys, the tags); a read checks the body as well.
/// A new layout takes a new version number: an old file is then deleted as foreign, which
/// costs a miss, never a wrong response.
enum DiskEntryEncoder {
    static func encode(_ entry: DiskEntry) throws(DiskFormatError) -> [UInt8] {
        let metadata = try encodeMetadata(entry)
        let header = DiskFileHeader(
            metadataLength: metadata.count, bodyLength: entry.body.count,
            bodyChecksum: CRC32.checksum(entry.body), headerChecksum: 0
        )
        var file = ByteWriter(reservingCapacity: header.fileSize)
        try header.write(to: &file)
        file.append(contentsOf: metadata)
        file.append(contentsOf: entry.body)
        var checksum = CRC32()
        checksum.update(file.bytes[0..<DiskFileHeader.headerChecksumOffset])
        checksum.update(metadata)
        file.overwrite(at: DiskFileHeader.headerChecksumOffset, with: checksum.checksum)
        return file.bytes
    }

    private static func encodeMetadata(_ entry: DiskEntry) throws(DiskFormatError) -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: 256)
        try writer.append(string: entry.id)
        try writer.append(string: entry.primary)
        try writer.append(string: entry.uri)
        writer.append(Int64(entry.status))
        writer.append(entry.requestTime)
        writer.append(entry.responseTime)
        try writer.appendCount(entry.headers.fields.count)
        for field in entry.headers {
            try writer.append(string: field.name)
            try writer.append(string: field.value)
        }
        try writer.appendCount(entry.varyNames.count)
        for name in entry.varyNames { try writer.append(string: name) }
        try writer.appendCount(entry.varyValues.count)
        for value in entry.varyValues {
            if let value {
                writer.append(UInt8(1))
                try writer.append(string: value)
            } else {
                writer.append(UInt8(0))
            }
        }
        try writer.appendCount(entry.tags.count)
        for tag in entry.tags { try writer.append(string: tag) }
        return writer.bytes
    }
}
