import SluiceCache
import Synchronization

/// A byte-bounded directory of entries, one file each (`DiskLayout` says where, and
/// `DiskEntryEncoder` what is in it), behind the in-memory tier.
///
/// Thread-safe: one lock around the index. Encoding, writing the temporary file, reading and
/// checksumming happen outside it; the calls that change which file a name holds (`rename`,
/// `unlink`) happen inside it, with the index change they go with, so that under the lock the
/// index and the directory always agree: every indexed id has its file, of the size recorded,
/// and nothing else is there but a temporary file being written. A write racing a remove of
/// the same id can therefore never leave a file the index does not count, nor an indexed id
/// without its file.
///
/// Blocking: the caller runs it on a thread pool, never on an event loop. Checked `Sendable`:
/// all mutable state is inside the `Mutex`.
public final class DiskStore: Sendable {
    private let layout: DiskLayout
    private let log: @Sendable (String) -> Void
    private let index: Mutex<DiskIndex>

    /// The most bytes of files kept.
    public let capacityBytes: Int

    /// Opens `directory`, creating it and its 256 subdirectories where missing, and rebuilds the
    /// index from the files there (see `DiskScan`: bad files are deleted and logged). Entries
    /// are admitted oldest `responseTime` first, so that a capacity smaller than before evicts
    /// as the policy would have (under LRU the oldest go); their files are deleted.
    /// `capacityBytes` must not be negative. Reads every file's header: slow for a very large
    /// cache, so it too belongs on a thread pool.
    public init(directory: String, capacityBytes: Int, eviction: EvictionKind, log: @escaping @Sendable (String) -> Void) throws {
        let layout = DiskLayout(directory: directory)
        let scan = DiskScan(layout: layout, log: log)
        try scan.createDirectory()
        let found = scan.run().sorted { ($0.responseTime, $0.id) < ($1.responseTime, $1.id) }
        try scan.createLevels()
        var index = DiskIndex(kind: eviction, capacityBytes: capacityBytes)
        var evicted: [DiskIndex.Record] = []
        for entry in found { evicted += index.insert(entry.id, entry.record) }
        self.layout = layout
        self.log = log
        self.capacityBytes = capacityBytes
        self.index = Mutex(index)
        for failure in evicted.compactMap(delete) { log(failure) }
        if !evicted.isEmpty {
            log("disk cache: evicted \(evicted.count) of \(found.count) entries (\(evicted.reduce(0) { $0 + $1.size }) bytes) to fit \(capacityBytes) bytes")
        }
    }

    /// Stores `entry`, replacing any file of the same id, then evicts to fit.
    ///
    /// The bytes go to a temporary file beside the final one (`<name>.tmp.<random>`), which
    /// `rename(2)` then puts in place atomically: a reader sees the old file or the new one,
    /// and a crash leaves at worst a temporary file, which the next start deletes. No fsync
    /// (see `POSIXFile.create`): what a crash tears fails its checksum and becomes a miss.
    ///
    /// Throws `DiskStoreError.entryTooLarge`, having written nothing, when the file would be
    /// larger than the whole capacity; an older file of the id is removed then, since it no
    /// longer describes what the origin sends. Throwing rather than returning quietly lets the
    /// caller count refusals apart from stores. Throws `.system` when the disk fails.
    public func write(_ entry: DiskEntry) throws {
        let bytes: [UInt8]
        do throws(DiskFormatError) {
            bytes = try DiskEntryEncoder.encode(entry)
        } catch {
            throw DiskStoreError.unencodable(id: entry.id, reason: error.description)
        }
        guard bytes.count <= capacityBytes else {
            remove(id: entry.id)
            throw DiskStoreError.entryTooLarge(id: entry.id, size: bytes.count, capacity: capacityBytes)
        }
        let name = DiskLayout.fileName(of: entry.id)
        let temporary = layout.temporaryPath(ofFile: name)
        try POSIXFile.create(temporary, holding: bytes)
        let record = DiskIndex.Record(fileName: name, primary: entry.primary, uri: entry.uri, tags: entry.tags, size: bytes.count)
        let outcome = index.withLock { index -> Result<[String], DiskStoreError> in
            do throws(DiskStoreError) {
                try POSIXFile.rename(temporary, to: layout.path(ofFile: name))
            } catch {
                return .failure(error)
            }
            return .success(index.insert(entry.id, record).compactMap(delete))
        }
        switch outcome {
        case let .success(failures):
            for failure in failures { log(failure) }
        case let .failure(error):
            try? POSIXFile.remove(temporary)
            throw error
        }
    }

    /// The entry stored under `id`, fully validated (magic, version, lengths, both checksums,
    /// and that it holds this id); nil when absent. A file that fails is deleted, dropped from
    /// the index and logged; a hit is recorded with the eviction policy.
    public func read(id: String) -> DiskEntry? {
        guard index.withLock({ $0.record(id) != nil }) else { return nil }
        let path = layout.path(ofFile: DiskLayout.fileName(of: id))
        let file: (bytes: [UInt8], status: FileStatus)
        do throws(DiskStoreError) {
            file = try POSIXFile.contents(of: path)
        } catch {
            if error.isNotFound {
                forgetVanished(id, path: path)
            } else {
                // EMFILE, EIO…: not evidence that the file is bad, so it stays.
                log("disk cache: could not read \(path): \(error)")
            }
            return nil
        }
        do throws(DiskFormatError) {
            let entry = try DiskEntryDecoder.entry(file.bytes)
            guard entry.id == id else { throw DiskFormatError("holds id \(entry.id.debugDescription), not \(id.debugDescription)") }
            index.withLock { $0.touch(id) }
            return entry
        } catch {
            discardCorrupt(id, path: path, read: file.status.identity, reason: error.description)
            return nil
        }
    }

    /// The variants known for a primary key, newest first, from the index (no I/O).
    public func ids(primary: String) -> [String] {
        index.withLock { $0.ids(primary: primary) }
    }

    /// Deletes `id`'s file; returns whether it was stored.
    @discardableResult
    public func remove(id: String) -> Bool {
        let (removed, failure) = index.withLock { index -> (Bool, String?) in
            guard let record = index.remove(id) else { return (false, nil) }
            return (true, delete(record))
        }
        if let failure { log(failure) }
        return removed
    }

    /// Deletes every entry whose uri and tags `matches` selects (purge by URL, prefix or tag);
    /// returns how many went. `matches` runs under the lock, so it must be quick and must not
    /// call back into the store.
    @discardableResult
    public func remove(where matches: (_ uri: String, _ tags: [String]) -> Bool) -> Int {
        let (count, failures) = index.withLock { index -> (Int, [String]) in
            let doomed = index.ids(where: matches).compactMap { index.remove($0) }
            return (doomed.count, doomed.compactMap(delete))
        }
        for failure in failures { log(failure) }
        return count
    }

    /// The sum of the indexed files' sizes.
    public var usedBytes: Int { index.withLock { $0.usedBytes } }

    /// Entries stored.
    public var count: Int { index.withLock { $0.count } }

    // MARK: Failures

    /// The file went behind the store's back (an operator, a disk clean-up): under the lock,
    /// where the store's own renames and unlinks cannot interleave, a missing file under an
    /// indexed id means exactly that.
    private func forgetVanished(_ id: String, path: String) {
        let forgotten = index.withLock { index -> Bool in
            guard index.record(id) != nil, (try? POSIXFile.status(path)) == nil else { return false }
            return index.remove(id) != nil
        }
        if forgotten { log("disk cache: \(path) vanished; dropped \(id.debugDescription) from the index") }
    }

    /// Deletes the file that failed validation, but only if `path` still holds that very file
    /// (`identity`): a write may have replaced it with a good one since it was read.
    private func discardCorrupt(_ id: String, path: String, read identity: FileStatus.Identity, reason: String) {
        let outcome = index.withLock { index -> String? in
            guard (try? POSIXFile.status(path))?.identity == identity else { return nil }
            do throws(DiskStoreError) {
                try POSIXFile.remove(path)
            } catch {
                return "disk cache: could not delete \(path) (\(reason)): \(error)"
            }
            _ = index.remove(id)
            return "disk cache: deleted \(path): \(reason)"
        }
        if let outcome { log(outcome) }
    }

    /// Deletes a file the index no longer holds; the log line if that failed. Called under the
    /// lock, so that a write of the same id cannot put a new file there in between.
    private func delete(_ record: DiskIndex.Record) -> String? {
        let path = layout.path(ofFile: record.fileName)
        do throws(DiskStoreError) {
            try POSIXFile.remove(path)
            return nil
        } catch {
            return "disk cache: could not delete \(path): \(error)"
        }
    }
}
