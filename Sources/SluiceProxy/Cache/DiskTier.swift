import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SluiceCache
import SluiceCacheDisk
import SluiceConfig

/// The cache's second tier (`cache.disk`): what the memory store keeps is also written to a
/// directory, and a memory miss the disk index knows is read back, promoted, and served, so
/// the cache survives a restart and holds more than memory. Every file operation runs on a
/// thread pool of its own, never on an event loop.
final class DiskTier: Sendable {
    let store: DiskStore
    private let pool: NIOThreadPool
    private let logger: Logger

    private init(store: DiskStore, pool: NIOThreadPool, logger: Logger) {
        self.store = store
        self.pool = pool
        self.logger = logger
    }

    /// Opens the directory and rebuilds its index (every file's header is read, bad files are
    /// deleted and logged). Throws, naming the key and the path, when the directory is unusable.
    static func open(_ config: CacheConfig, logger: Logger) async throws -> DiskTier {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        do {
            let store = try await pool.runIfActive {
                try DiskStore(directory: config.disk.path, capacityBytes: config.disk.maxSize, eviction: EvictionKind(config.eviction)) {
                    logger.warning("\($0)")
                }
            }
            logger.info("disk cache open", metadata: [
                "path": "\(config.disk.path)", "objects": "\(store.count)", "bytes": "\(store.usedBytes)",
            ])
            return DiskTier(store: store, pool: pool, logger: logger)
        } catch {
            try? await pool.shutdownGracefully()
            throw DiskTierError(description: "cache.disk.path: cannot use \(config.disk.path) for the disk cache: \(error)")
        }
    }

    struct DiskTierError: Error, CustomStringConvertible {
        let description: String
    }

    /// Written in the background; a failure only costs the copy.
    func write(_ object: CachedObject) {
        let entry = Self.entry(object)
        pool.submit { [store, logger] state in
            guard case .active = state else { return }
            do { try store.write(entry) } catch {
                logger.debug("disk cache: not written", metadata: ["uri": "\(entry.uri)", "reason": "\(error)"])
            }
        }
    }

    /// Whether the index knows variants of `primary` (no I/O).
    func knows(_ primary: String) -> Bool { !store.ids(primary: primary).isEmpty }

    /// The stored variants of `primary`, read and checked on the pool; a corrupt file comes
    /// back as nothing (and is deleted).
    func read(_ primary: String, on eventLoop: any EventLoop, policy: CachePolicy) -> EventLoopFuture<[CachedObject]> {
        pool.runIfActive(eventLoop: eventLoop) { [store] in
            store.ids(primary: primary).compactMap(store.read).map { Self.object($0, policy: policy) }
        }
    }

    func remove(uri: String) { removeInBackground { stored, _ in stored == uri } }

    func remove(where matches: @escaping @Sendable (_ uri: String, _ tags: [String]) -> Bool) { removeInBackground(matches) }

    private func removeInBackground(_ matches: @escaping @Sendable (String, [String]) -> Bool) {
        pool.submit { [store] state in
            guard case .active = state else { return }
            store.remove(where: matches)
        }
    }

    func shutdown() async {
        try? await pool.shutdownGracefully()
    }

    static func entry(_ object: CachedObject) -> DiskEntry {
        DiskEntry(id: object.id, primary: object.primary, uri: object.uri, status: object.stored.status,
                  headers: object.stored.headers, requestTime: object.stored.requestTime, responseTime: object.stored.responseTime,
                  varyNames: object.vary.fieldNames, varyValues: object.vary.values, tags: object.tags,
                  body: Array(object.body.readableBytesView))
    }

    static func object(_ entry: DiskEntry, policy: CachePolicy) -> CachedObject {
        let stored = StoredResponse(status: entry.status, headers: entry.headers, requestTime: entry.requestTime,
                                    responseTime: entry.responseTime, policy: policy)
        var body = ByteBufferAllocator().buffer(capacity: entry.body.count)
        body.writeBytes(entry.body)
        return CachedObject(primary: entry.primary, uri: entry.uri, stored: stored,
                            vary: VaryKey(fieldNames: entry.varyNames, storedValues: entry.varyValues), body: body, tags: entry.tags)
    }
}
