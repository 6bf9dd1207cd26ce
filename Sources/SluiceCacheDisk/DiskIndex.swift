import SluiceCache

/// What the disk tier knows without touching the disk: for each id on disk, its file and the
/// keys lookups and purges go by, under an `EvictionIndex` that keeps the files' total size
/// within the capacity. A value with no I/O: `DiskStore` holds it under its lock and applies
/// to the directory what each change returns.
struct DiskIndex {
    struct Record: Equatable {
        /// The file's name (`DiskLayout.fileName(of: id)`), kept so that no hash is computed
        /// under the lock.
        var fileName: String
        var primary: String
        var uri: String
        var tags: [String]
        /// The file's size in bytes: what the capacity counts.
        var size: Int
    }

    private var eviction: EvictionIndex<String>
    private var records: [String: Record] = [:]
    /// Ids under each primary key, the newest first.
    private var variants: [String: [String]] = [:]

    init(kind: EvictionKind, capacityBytes: Int) {
        eviction = EvictionIndex(kind: kind, capacityBytes: capacityBytes)
    }

    var capacityBytes: Int { eviction.capacityBytes }
    /// The sum of the indexed files' sizes.
    var usedBytes: Int { eviction.usedBytes }
    var count: Int { records.count }

    func record(_ id: String) -> Record? { records[id] }

    func ids(primary: String) -> [String] { variants[primary] ?? [] }

    /// Every id whose uri and tags `matches` selects.
    func ids(where matches: (_ uri: String, _ tags: [String]) -> Bool) -> [String] {
        records.compactMap { id, record in matches(record.uri, record.tags) ? id : nil }
    }

    mutating func touch(_ id: String) { eviction.touch(id) }

    /// Records that `id` now has the file `record` describes (replacing any earlier record of
    /// it) and returns the records of the files that must go to keep within capacity, which
    /// include `id`'s own when the policy turned it out at once.
    mutating func insert(_ id: String, _ record: Record) -> [Record] {
        if let old = records[id] { unlink(id, old) }
        records[id] = record
        variants[record.primary, default: []].insert(id, at: 0)
        return eviction.insert(id, size: record.size).compactMap { victim in
            guard let gone = records[victim] else { return nil }
            unlink(victim, gone)
            return gone
        }
    }

    /// Forgets `id`; returns the record of its file, which the caller deletes.
    mutating func remove(_ id: String) -> Record? {
        guard let record = records[id] else { return nil }
        unlink(id, record)
        eviction.remove(id)
        return record
    }

    /// Takes `id` out of the maps, not the eviction index (the caller decides).
    private mutating func unlink(_ id: String, _ record: Record) {
        records[id] = nil
        guard var list = variants[record.primary] else { return }
        list.removeAll { $0 == id }
        variants[record.primary] = list.isEmpty ? nil : list
    }
}
