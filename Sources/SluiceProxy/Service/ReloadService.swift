#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
// In a release build on Linux the compiler attributes `struct stat` to CoreFoundation's copy of
// the system headers (loaded through Foundation elsewhere in the target): import it, or
// MemberImportVisibility refuses its fields.
#if canImport(CoreFoundation)
import CoreFoundation
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
    private let hangups: UnixSignalsSequence
    private let watch: ConfigWatch

    /// Made before the service group runs: from here on SIGHUP is caught (its default action
    /// would end the process), and the watch compares against the file as it is now.
    public init(server: ProxyServer) async {
        self.server = server
        hangups = await UnixSignalsSequence(trapping: .sighup)
        watch = ConfigWatch(server: server)
    }

    public func run() async throws {
        let (server, hangups, watch) = (self.server, self.hangups, self.watch)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in hangups {
                        // One that arrives while the listeners are being bound waits for them.
                        guard await server.untilRunning() else { return }
                        server.runtime.logger.notice("SIGHUP: reloading the configuration")
                        _ = await server.reload()
                    }
                }
                group.addTask {
                    guard await server.untilRunning() else { return }
                    await watch.run()
                }
            }
        }
    }
}

/// Polls the configuration file's identity: device, inode, size and modification time, read
/// through symlinks. Kubernetes updates a mounted ConfigMap by pointing a `..data` symlink at
/// a new directory, which changes the inode the path resolves to even when size and time
/// agree; an editor's save or `mv` changes the time or the inode. Polling, unlike inotify,
/// sees a swap of any symlink on the way. A change is acted on once the file has stayed the
/// same for one more interval, so that a file written in place is not read half-written.
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
            do { try await Task.sleep(for: config.watchInterval) } catch { return }
            guard Signature(path: path) == now else { continue }  // still being written: next round
            seen = now
            server.runtime.logger.info("configuration file changed: reloading", metadata: ["file": "\(path)"])
            if await server.reload().result == .stopped { return }
        }
    }
}
