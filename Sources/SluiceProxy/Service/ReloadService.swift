#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import ServiceLifecycle
import SluiceConfig
import UnixSignals

/// The two reload triggers that are not an admin request: SIGHUP (`systemctl reload`,
/// `kill -HUP`) and the watch on the configuration file. Runs beside `ProxyService` in the
/// ServiceGroup and ends when graceful shutdown begins.
public struct ReloadService: Service {
    private let server: ProxyServer

    public init(server: ProxyServer) { self.server = server }

    public func run() async throws {
        let server = self.server
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in hangups {
                        server.runtime.logger.notice("SIGHUP: reloading the configuration")
                        _ = await server.reload()
                    }
                }
                let watch = ConfigWatch(server: server)
                group.addTask { await watch.run() }
            }
        }
    }
}

/// Polls the configuration file's identity: device, inode, size and modification time, read
/// through symlinks. Kubernetes updates a mounted ConfigMap by pointing a `..data` symlink at
/// a new directory, which changes the inode the path resolves to even when size and time
/// agree; an editor's save or `mv` changes the time or the inode. Polling, unlike inotify,
/// sees a swap of any symlink on the way.
struct ConfigWatch {
    let server: ProxyServer
    /// Taken when the watch is made, not when it first runs, so that a change in between is seen.
    private let path: String
    private let initial: Signature?

    init(server: ProxyServer) {
        self.server = server
        path = server.snapshot.source
        initial = Signature(path: path)
    }

    /// What identifies one version of the file; nil when it cannot be read just now (a swap in
    /// progress, a missing file): then nothing is reloaded until it is back.
    struct Signature: Equatable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modifiedNanos: Int64

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            #if canImport(Darwin)
            modifiedNanos = Int64(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(info.st_mtimespec.tv_nsec)
            #else
            modifiedNanos = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            #endif
        }
    }

    func run() async {
        var path = self.path
        var seen = initial
        while !Task.isCancelled {
            let config = server.snapshot.config.reload
            do { try await Task.sleep(for: config.watchInterval) } catch { return }
            // The file the running configuration came from (an admin reload may name another).
            let source = server.snapshot.source
            if source != path {
                path = source
                seen = Signature(path: path)
            }
            guard config.watch, !path.hasPrefix("<"), let now = Signature(path: path), now != seen else { continue }
            seen = now
            server.runtime.logger.info("configuration file changed: reloading", metadata: ["file": "\(path)"])
            _ = await server.reload()
        }
    }
}
