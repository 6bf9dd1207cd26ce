import SluiceCache
import SluiceCacheDisk
import Testing

/// The byte bound, while running and across a restart with a smaller one.
@Suite struct DiskStoreCapacityTests {
    /// Entries `e0`… of one size each, so that capacities can be counted in entries.
    func entry(_ number: Int, responseTime: Int64 = t0) -> DiskEntry {
        sampleEntry("e\(number)", responseTime: responseTime, body: Array(repeating: UInt8(number), count: 200))
    }

    func onDisk(_ store: DiskStore, _ number: Int, in directory: String) -> Bool {
        let present = fileExists(filePath(of: "e\(number)", in: directory))
        #expect(present == !store.ids(primary: "e\(number)").isEmpty, "e\(number): the index and the directory disagree")
        return present
    }

    @Test func writingPastCapacityDeletesTheLeastRecentlyUsed() throws {
        let size = try fileSize(of: entry(0))
        try withScratchDirectory { directory in
            let capacity = size * 3 + size / 2
            let store = try DiskStore(directory: directory, capacityBytes: capacity, eviction: .lru, log: { _ in })
            for number in 0..<5 {
                try store.write(entry(number))
                #expect(store.usedBytes <= capacity)
                #expect(store.usedBytes == filesOnDisk(directory).values.reduce(0, +))
            }
            #expect((0..<5).map { onDisk(store, $0, in: directory) } == [false, false, true, true, true])
            // A read is a use: e2 now outlives e3.
            #expect(store.read(id: "e2") != nil)
            try store.write(entry(5))
            #expect((2..<6).map { onDisk(store, $0, in: directory) } == [true, false, true, true])
            #expect(store.count == 3 && store.usedBytes == 3 * size)
        }
    }

    @Test func aRestartWithASmallerCapacityKeepsTheNewestResponses() throws {
        let size = try fileSize(of: entry(0))
        try withScratchDirectory { directory in
            // Written out of responseTime order: the rebuild must sort, not follow the directory.
            let times: [Int64] = [5, 1, 4, 2, 3]
            let first = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            for (number, time) in times.enumerated() { try first.write(entry(number, responseTime: t0 + time)) }
            let log = LogRecorder()
            let capacity = size * 2 + size / 2
            let second = try DiskStore(directory: directory, capacityBytes: capacity, eviction: .lru, log: log.log)
            #expect(second.usedBytes <= capacity && second.usedBytes == 2 * size)
            #expect((0..<5).map { onDisk(second, $0, in: directory) } == [true, false, true, false, false])
            #expect(filesOnDisk(directory).count == 2)
            #expect(log.mentions("evicted 3 of 5"))
        }
    }

    @Test(arguments: EvictionKind.allCases)
    func everyPolicyKeepsWithinTheCapacity(kind: EvictionKind) throws {
        let size = try fileSize(of: entry(0))
        try withScratchDirectory { directory in
            let capacity = size * 4
            let store = try DiskStore(directory: directory, capacityBytes: capacity, eviction: kind, log: { _ in })
            for round in 0..<30 {
                try store.write(entry(round % 9))
                _ = store.read(id: "e\(round % 4)")
                #expect(store.usedBytes <= capacity)
            }
            #expect(store.usedBytes == filesOnDisk(directory).values.reduce(0, +))
            #expect(store.count == filesOnDisk(directory).count)
        }
    }

    @Test func anEntryLargerThanTheCapacityIsRefusedAndItsOlderFileRemoved() throws {
        try withScratchDirectory { directory in
            let store = try DiskStore(directory: directory, capacityBytes: 2_000, eviction: .lru, log: { _ in })
            try store.write(sampleEntry("big"))
            let huge = sampleEntry("big", body: Array(repeating: 1, count: 5_000))
            #expect(throws: DiskStoreError.self) { try store.write(huge) }
            #expect(store.count == 0 && store.usedBytes == 0)
            #expect(filesOnDisk(directory).isEmpty)
        }
    }

    @Test func replacingAnIDLeavesOneFile() throws {
        try withScratchDirectory { directory in
            let store = try DiskStore(directory: directory, capacityBytes: 1 << 20, eviction: .lru, log: { _ in })
            try store.write(sampleEntry("same", body: Array(repeating: 1, count: 1_000)))
            let replacement = sampleEntry("same", responseTime: t0 + 60, body: Array(repeating: 2, count: 10))
            try store.write(replacement)
            let files = filesOnDisk(directory)
            #expect(files.count == 1)
            #expect(store.usedBytes == files.values.first && store.count == 1)
            #expect(store.usedBytes == (try fileSize(of: replacement)))
            #expect(store.ids(primary: "same") == ["same"])
            #expect(store.read(id: "same") == replacement)
        }
    }
}
