import SluiceCache
import SluiceCacheDisk
import Testing

/// What goes in comes out, byte for byte, from where the brief says it lives.
@Suite struct DiskStoreRoundTripTests {
    /// Entries at the edges of the encoding.
    static let edgeCases: [DiskEntry] = [
        sampleEntry("plain"),
        DiskEntry(
            id: "vary with absent fields", primary: "p", uri: "/v", status: 200, headers: ["Vary": "Cookie, Accept-Language"],
            requestTime: t0, responseTime: t0, varyNames: ["cookie", "accept-language", "x-empty"], varyValues: [nil, "en", ""],
            tags: [], body: []
        ),
        DiskEntry(
            id: "every byte value", primary: "bin", uri: "/bin", status: 206, headers: [],
            requestTime: -5, responseTime: Int64.max, varyNames: [], varyValues: [], tags: ["a", "", "b c"],
            body: (0..<1024).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 256) } + Array(0...255)
        ),
        DiskEntry(
            id: "non-ASCII ✓", primary: "ü", uri: "/caf\u{E9}?q=日本", status: 404,
            headers: [
                ("X-Latin", "caf\u{E9} na\u{EF}ve"), ("X-CJK", "日本語"), ("X-Emoji", "🧊"),
                // A value NIO decoded from bytes that were not UTF-8: the replacement characters must survive.
                ("X-Raw", String(decoding: [0x61, 0xFF, 0xC3, 0x28, 0x80], as: UTF8.self)),
            ],
            requestTime: 0, responseTime: 1, varyNames: ["accept"], varyValues: ["*/*"], tags: ["ü"], body: Array("körper".utf8)
        ),
    ]

    @Test func writeThenReadReturnsAnEqualEntry() throws {
        try withScratchDirectory { directory in
            let log = LogRecorder()
            let store = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: log.log)
            for entry in Self.edgeCases { try store.write(entry) }
            for entry in Self.edgeCases {
                #expect(store.read(id: entry.id) == entry, "\(entry.id)")
            }
            #expect(store.count == Self.edgeCases.count)
            #expect(log.all.isEmpty)
        }
    }

    @Test func theFileIsNamedByTheHashOfTheIDInItsLevelDirectory() throws {
        try withScratchDirectory { directory in
            let store = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            let entry = sampleEntry("GET example.com/x")
            try store.write(entry)
            let path = filePath(of: entry.id, in: directory)
            #expect(fileExists(path))
            #expect(Array(bytes(of: path).prefix(7)) == Array("SLUICE\0".utf8))
            #expect(filesOnDisk(directory).count == 1)
            #expect(store.usedBytes == bytes(of: path).count)
        }
    }

    @Test func theStoreCreatesItsDirectoryAndTheLevels() throws {
        try withScratchDirectory { directory in
            _ = try DiskStore(directory: directory + "/nested/cache", capacityBytes: 100, eviction: .lru, log: { _ in })
            #expect(fileExists(directory + "/nested/cache/00") && fileExists(directory + "/nested/cache/ff"))
            #expect(!fileExists(directory + "/nested/cache/100"))
        }
    }

    @Test func anUnknownIDReadsAsNil() throws {
        try withScratchDirectory { directory in
            let store = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            #expect(store.read(id: "never written") == nil)
            #expect(store.ids(primary: "never written").isEmpty)
        }
    }

    @Test func variantsAreListedByPrimaryNewestFirst() throws {
        try withScratchDirectory { directory in
            let store = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            try store.write(sampleEntry("p\n\ngzip", primary: "p"))
            try store.write(sampleEntry("p\n\nbr", primary: "p"))
            try store.write(sampleEntry("q", primary: "q"))
            #expect(store.ids(primary: "p") == ["p\n\nbr", "p\n\ngzip"])
            #expect(store.ids(primary: "q") == ["q"])
        }
    }
}
