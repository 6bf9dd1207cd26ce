import Foundation
import SluiceCache
import SluiceCacheDisk
import Synchronization

/// Tue, 01 Dec 2026 10:00:00 GMT in Unix seconds, as in SluiceCacheTests.
let t0: Int64 = 1_796_119_200

/// Runs `body` with a fresh directory path under NSTemporaryDirectory() (not yet created: the
/// store creates it), and removes it afterwards whatever happens.
func withScratchDirectory(_ body: (String) throws -> Void) throws {
    let path = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sluice-disk-test-" + UUID().uuidString).path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try body(path)
}

/// The lines a store logs, kept for the test to read.
final class LogRecorder: Sendable {
    private let lines = Mutex<[String]>([])

    var log: @Sendable (String) -> Void {
        { line in self.lines.withLock { $0.append(line) } }
    }

    var all: [String] { lines.withLock { $0 } }

    func mentions(_ text: String) -> Bool { all.contains { $0.contains(text) } }
}

/// Where the brief says `id`'s file lives, computed here rather than asked of the store:
/// `<directory>/<first two hex digits>/<SHA-256 hex of id>`.
func filePath(of id: String, in directory: String) -> String {
    let name = SHA256.hex(id)
    return directory + "/" + name.prefix(2) + "/" + name
}

/// Every regular file under `directory`, by path relative to it, with its size.
func filesOnDisk(_ directory: String) -> [String: Int] {
    var files: [String: Int] = [:]
    for relative in (try? FileManager.default.subpathsOfDirectory(atPath: directory)) ?? [] {
        let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + relative)
        guard attributes?[.type] as? FileAttributeType == .typeRegular else { continue }
        files[relative] = (attributes?[.size] as? NSNumber)?.intValue ?? -1
    }
    return files
}

func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

func bytes(of path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path) ?? Data()) }

func overwrite(_ path: String, with bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// An ordinary entry: a 200 with a few fields, Vary on Accept-Encoding.
func sampleEntry(
    _ id: String,
    primary: String? = nil,
    uri: String = "/index.html",
    responseTime: Int64 = t0,
    tags: [String] = [],
    body: [UInt8] = Array("hello, disk".utf8)
) -> DiskEntry {
    DiskEntry(
        id: id, primary: primary ?? id, uri: uri, status: 200,
        headers: ["Content-Type": "text/html", "Cache-Control": "max-age=60", "Vary": "Accept-Encoding"],
        requestTime: responseTime - 1, responseTime: responseTime,
        varyNames: ["accept-encoding"], varyValues: ["gzip"], tags: tags, body: body
    )
}

func removeFile(_ path: String) throws { try FileManager.default.removeItem(atPath: path) }

/// The size on disk of `entry`'s file, measured by storing it in a throwaway directory.
func fileSize(of entry: DiskEntry) throws -> Int {
    var size = 0
    try withScratchDirectory { directory in
        let store = try DiskStore(directory: directory, capacityBytes: 1 << 30, eviction: .lru, log: { _ in })
        try store.write(entry)
        size = store.usedBytes
    }
    return size
}
