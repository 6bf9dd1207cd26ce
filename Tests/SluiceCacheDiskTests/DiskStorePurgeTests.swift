import SluiceCache
import SluiceCacheDisk
import Testing

/// Removal by id, and by URI and tags from the index alone.
@Suite struct DiskStorePurgeTests {
    @Test func removeByIDDeletesTheFile() throws {
        try withScratchDirectory { directory in
            let store = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            try store.write(sampleEntry("p\n\nbr", primary: "p"))
            try store.write(sampleEntry("p\n\ngzip", primary: "p"))
            #expect(store.remove(id: "p\n\nbr"))
            #expect(!store.remove(id: "p\n\nbr"))
            #expect(!fileExists(filePath(of: "p\n\nbr", in: directory)))
            #expect(store.ids(primary: "p") == ["p\n\ngzip"])
            #expect(store.read(id: "p\n\nbr") == nil)
            #expect(store.usedBytes == filesOnDisk(directory).values.reduce(0, +))
        }
    }

    @Test func removeWhereByURIPrefix() throws {
        try withScratchDirectory { directory in
            let store = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            for (id, uri) in [("1", "/a/1"), ("2", "/a/2?x"), ("3", "/b/1"), ("4", "/ab")] { try store.write(sampleEntry(id, uri: uri)) }
            #expect(store.remove { uri, _ in uri.hasPrefix("/a/") } == 2)
            for id in ["1", "2"] {
                #expect(!fileExists(filePath(of: id, in: directory)) && store.ids(primary: id).isEmpty, "\(id)")
            }
            for id in ["3", "4"] { #expect(store.read(id: id) != nil, "\(id)") }
            #expect(store.count == 2 && filesOnDisk(directory).count == 2)
        }
    }

    @Test func removeWhereByTag() throws {
        try withScratchDirectory { directory in
            let store = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            try store.write(sampleEntry("red", tags: ["red"]))
            try store.write(sampleEntry("blue red", tags: ["blue", "red"]))
            try store.write(sampleEntry("green", tags: ["green"]))
            try store.write(sampleEntry("none"))
            #expect(store.remove { _, tags in tags.contains("red") } == 2)
            #expect(!fileExists(filePath(of: "red", in: directory)) && !fileExists(filePath(of: "blue red", in: directory)))
            #expect(store.ids(primary: "red").isEmpty && store.ids(primary: "blue red").isEmpty)
            #expect(store.count == 2 && store.usedBytes == filesOnDisk(directory).values.reduce(0, +))
            // The tags survive a restart too.
            let second = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            #expect(second.remove { _, tags in tags == ["green"] } == 1)
            #expect(second.count == 1 && second.ids(primary: "none") == ["none"])
        }
    }
}
