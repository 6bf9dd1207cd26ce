import SluiceCache
import SluiceCacheDisk
import Testing

/// A new store on an old directory: the index comes back, and what is bad goes.
@Suite struct DiskStoreRebuildTests {
    @Test func aNewStoreRebuildsTheIndex() throws {
        try withScratchDirectory { directory in
            let entries = [
                sampleEntry("a\n\ngzip", primary: "a", responseTime: t0 + 1),
                sampleEntry("a\n\nbr", primary: "a", responseTime: t0 + 2, tags: ["x"]),
                sampleEntry("b", uri: "/b", responseTime: t0 + 3, body: Array(0...255)),
                sampleEntry("c", uri: "/c", responseTime: t0 + 4, body: []),
            ]
            let first = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            for entry in entries { try first.write(entry) }
            let log = LogRecorder()
            let second = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: log.log)
            for primary in ["a", "b", "c"] {
                #expect(second.ids(primary: primary) == first.ids(primary: primary), "\(primary)")
            }
            #expect(second.ids(primary: "a") == ["a\n\nbr", "a\n\ngzip"])
            #expect(second.count == first.count && second.count == 4)
            #expect(second.usedBytes == first.usedBytes && second.usedBytes == filesOnDisk(directory).values.reduce(0, +))
            for entry in entries { #expect(second.read(id: entry.id) == entry) }
            #expect(log.all.isEmpty)
        }
    }

    /// Truncated, garbage, misnamed, foreign and leftover files go at start-up, each logged by
    /// path; a flipped body bit goes at its first read, which checks the body checksum (the
    /// start-up pass reads headers only). The good entries survive.
    @Test func damagedAndLeftoverFilesAreDeleted() throws {
        try withScratchDirectory { directory in
            let ids = ["truncated", "garbage", "flipped body", "flipped metadata", "good 1", "good 2"]
            let first = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            for id in ids { try first.write(sampleEntry(id, body: Array(repeating: 0x41, count: 300))) }
            let path = { (id: String) in filePath(of: id, in: directory) }

            let whole = bytes(of: path("truncated"))
            try overwrite(path("truncated"), with: Array(whole.dropLast()))
            try overwrite(path("garbage"), with: (0..<500).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            var flipped = bytes(of: path("flipped body"))
            flipped[flipped.count - 10] ^= 0x04
            try overwrite(path("flipped body"), with: flipped)
            var metadata = bytes(of: path("flipped metadata"))
            metadata[40] ^= 0x01
            try overwrite(path("flipped metadata"), with: metadata)
            let leftover = path("good 1") + ".tmp.4d2"
            try overwrite(leftover, with: Array(whole.prefix(100)))
            // A whole, valid file under a name that is not its id's hash.
            let misnamed = directory + "/ab/ab" + String(repeating: "0", count: 62)
            try overwrite(misnamed, with: bytes(of: path("good 2")))
            let foreign = directory + "/7f/notes.txt"
            try overwrite(foreign, with: Array("not a cache file".utf8))
            let strayAtTop = directory + "/stray"
            try overwrite(strayAtTop, with: [1, 2, 3])

            let log = LogRecorder()
            let second = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: log.log)
            for gone in [path("truncated"), path("garbage"), path("flipped metadata"), leftover, misnamed, foreign, strayAtTop] {
                #expect(!fileExists(gone), "\(gone)")
                #expect(log.mentions(gone), "\(gone)")
            }
            for id in ["truncated", "garbage", "flipped metadata"] { #expect(second.ids(primary: id).isEmpty, "\(id)") }
            #expect(second.count == 3)

            #expect(second.read(id: "flipped body") == nil)
            #expect(!fileExists(path("flipped body")))
            #expect(log.mentions(path("flipped body")))
            #expect(second.ids(primary: "flipped body").isEmpty)

            #expect(second.count == 2)
            #expect(second.read(id: "good 1") == sampleEntry("good 1", body: Array(repeating: 0x41, count: 300)))
            #expect(second.read(id: "good 2") == sampleEntry("good 2", body: Array(repeating: 0x41, count: 300)))
            #expect(second.usedBytes == filesOnDisk(directory).values.reduce(0, +))
            #expect(filesOnDisk(directory).count == 2)
        }
    }

    @Test func aReadCatchesDamageDoneWhileRunning() throws {
        try withScratchDirectory { directory in
            let log = LogRecorder()
            let store = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: log.log)
            try store.write(sampleEntry("cut"))
            try store.write(sampleEntry("kept"))
            let path = filePath(of: "cut", in: directory)
            try overwrite(path, with: Array(bytes(of: path).dropLast()))
            #expect(store.read(id: "cut") == nil)
            #expect(!fileExists(path) && log.mentions(path))
            #expect(store.count == 1 && store.ids(primary: "cut").isEmpty)
            #expect(store.usedBytes == filesOnDisk(directory).values.reduce(0, +))
        }
    }

    @Test func aFileDeletedBehindTheStoresBackIsForgotten() throws {
        try withScratchDirectory { directory in
            let log = LogRecorder()
            let store = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: log.log)
            try store.write(sampleEntry("doomed"))
            try removeFile(filePath(of: "doomed", in: directory))
            #expect(store.read(id: "doomed") == nil)
            #expect(store.count == 0 && store.usedBytes == 0)
            #expect(log.mentions(filePath(of: "doomed", in: directory)))
        }
    }

    /// A file where a level directory belongs is deleted and the directory made, so that
    /// writes to that level work again.
    @Test func aFileInPlaceOfALevelDirectoryIsReplaced() throws {
        try withScratchDirectory { directory in
            _ = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            let level = directory + "/" + SHA256.hex("x").prefix(2)
            try removeFile(level)
            try overwrite(level, with: [0])
            let log = LogRecorder()
            let store = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: log.log)
            #expect(log.mentions(level))
            try store.write(sampleEntry("x"))
            #expect(store.read(id: "x") == sampleEntry("x"))
        }
    }
}
