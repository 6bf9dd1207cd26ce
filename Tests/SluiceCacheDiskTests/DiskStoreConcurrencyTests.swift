import Dispatch
import SluiceCache
import SluiceCacheDisk
import Synchronization
import Testing

/// Four threads at once on shared and private ids; afterwards the index and the directory
/// must agree exactly.
@Suite struct DiskStoreConcurrencyTests {
    static let threads = 4
    static let operationsPerThread = 500

    /// A body that says which write made it, so that a read can check it is whole.
    static func entry(_ id: String, primary: String, version: Int) -> DiskEntry {
        let length = (version * 37 + id.utf8.count * 11) % 1_500
        var entry = sampleEntry(id, primary: primary, uri: "/" + primary, body: (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ version) })
        entry.headers.append("X-Version", String(version))
        return entry
    }

    /// SplitMix64, enough for picking operations.
    struct Random {
        var state: UInt64
        mutating func below(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    @Test func concurrentWritesReadsAndRemovesKeepTheInvariants() throws {
        try withScratchDirectory { directory in
            let log = LogRecorder()
            // Room for about 20 of the ~50 ids, so that eviction runs throughout.
            let store = try DiskStore(directory: directory, capacityBytes: 20 * 1_100, eviction: .lru, log: log.log)
            let badReads = Mutex<[String]>([])
            let writeErrors = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: Self.threads) { thread in
                var random = Random(state: UInt64(thread + 1))
                for step in 0..<Self.operationsPerThread {
                    let shared = random.below(2) == 0
                    let primary = shared ? "shared" : "thread\(thread)"
                    let id = primary + "/" + String(random.below(shared ? 8 : 12))
                    switch random.below(20) {
                    case 0..<9:
                        do {
                            try store.write(Self.entry(id, primary: primary, version: step))
                        } catch {
                            writeErrors.withLock { $0.append("\(error)") }
                        }
                    case 9..<17:
                        guard let entry = store.read(id: id) else { continue }
                        let version = entry.headers.first("X-Version").flatMap { Int($0) } ?? -1
                        if entry != Self.entry(id, primary: primary, version: version) { badReads.withLock { $0.append(id) } }
                    default:
                        store.remove(id: id)
                    }
                }
            }
            #expect(badReads.withLock { $0 }.isEmpty)
            #expect(writeErrors.withLock { $0 }.isEmpty)
            #expect(log.all.isEmpty)

            let primaries = ["shared"] + (0..<Self.threads).map { "thread\($0)" }
            let indexed = primaries.flatMap { store.ids(primary: $0) }
            #expect(!indexed.isEmpty)
            #expect(Set(indexed).count == indexed.count && indexed.count == store.count)
            let files = filesOnDisk(directory)
            #expect(files.count == store.count, "no orphan or temporary files")
            #expect(store.usedBytes == files.values.reduce(0, +))
            #expect(store.usedBytes <= store.capacityBytes)
            for id in indexed {
                #expect(fileExists(filePath(of: id, in: directory)), "\(id)")
                #expect(store.read(id: id)?.id == id, "\(id)")
            }
            #expect(log.all.isEmpty)
        }
    }
}
