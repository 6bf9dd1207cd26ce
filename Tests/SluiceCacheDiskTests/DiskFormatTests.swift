import SluiceCache
@testable import SluiceCacheDisk
import Testing

/// The file format on its own: its layout, and that damage anywhere is caught.
@Suite struct DiskFormatTests {
    let entry = DiskEntry(
        id: "GET example.com/a\n\naccept-encoding=br", primary: "GET example.com/a", uri: "/a", status: 203,
        headers: [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Name", "Zoë")],
        requestTime: t0 - 2, responseTime: t0, varyNames: ["accept-encoding", "cookie"], varyValues: ["br", nil],
        tags: ["t1"], body: [0, 1, 2, 0xFF, 0x80]
    )

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func theFixedHeaderIsLaidOutAsDocumented() throws {
        let file = try DiskEntryEncoder.encode(entry)
        #expect(Array(file[0..<7]) == Array("SLUICE\0".utf8))
        #expect(file[7] == 1 && file[8] == 0)  // version 1, little-endian
        let metadata = Int(file[9]) | Int(file[10]) << 8 | Int(file[11]) << 16 | Int(file[12]) << 24
        let body = (13..<21).reduce(0) { $0 | Int(file[$1]) << (($1 - 13) * 8) }
        #expect(body == entry.body.count)
        #expect(file.count == 29 + metadata + body)
        #expect(Array(file.suffix(body)) == entry.body)
        let bodyChecksum = (21..<25).reduce(UInt32(0)) { $0 | UInt32(file[$1]) << UInt32(($1 - 21) * 8) }
        #expect(bodyChecksum == CRC32.checksum(entry.body))
    }

    @Test func decodingGivesBackTheEntry() throws {
        #expect(try DiskEntryDecoder.entry(DiskEntryEncoder.encode(entry)) == entry)
    }

    /// Every truncation, at every length, fails.
    @Test func everyTruncationIsDetected() throws {
        let file = try DiskEntryEncoder.encode(entry)
        for length in 0..<file.count {
            #expect(throws: DiskFormatError.self, "cut to \(length) bytes") { try DiskEntryDecoder.entry(Array(file.prefix(length))) }
        }
    }

    /// Every single bit flipped, anywhere in the file, fails: the checksums cover all of it.
    @Test func everySingleBitFlipIsDetected() throws {
        let file = try DiskEntryEncoder.encode(entry)
        var undetected: [Int] = []
        for bit in 0..<(file.count * 8) {
            var damaged = file
            damaged[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            if (try? DiskEntryDecoder.entry(damaged)) != nil { undetected.append(bit) }
        }
        #expect(undetected.isEmpty)
    }

    /// The start-up pass reads only the header and metadata, and a flip there is caught too.
    @Test func aMetadataFlipFailsTheHeaderOnlyRead() throws {
        let file = try DiskEntryEncoder.encode(entry)
        let header = try DiskFileHeader(parsing: file[...], fileSize: file.count)
        var withoutBody = try DiskEntryDecoder.metadata(file[...], header: header)
        withoutBody.body = entry.body
        #expect(withoutBody == entry)
        var damaged = file
        damaged[DiskFileHeader.size + 3] ^= 0x10
        #expect(throws: DiskFormatError.self) { try DiskEntryDecoder.metadata(damaged[...], header: header) }
    }

    @Test func aLengthThatDisagreesWithTheFileSizeIsRejected() throws {
        let file = try DiskEntryEncoder.encode(entry)
        #expect(throws: DiskFormatError.self) { try DiskFileHeader(parsing: file[...], fileSize: file.count + 1) }
        var foreign = file
        foreign[0] = UInt8(ascii: "X")
        #expect(throws: DiskFormatError.self) { try DiskFileHeader(parsing: foreign[...], fileSize: foreign.count) }
    }
}
