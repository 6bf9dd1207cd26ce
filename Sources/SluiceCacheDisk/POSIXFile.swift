#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `lstat`/`fstat` say of a file, as much as the disk tier needs.
struct FileStatus: Equatable {
    enum Kind: Equatable { case regular, directory, other }

    /// The inode: a file renamed keeps it, a file replaced does not.
    struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
    }

    var kind: Kind
    var size: Int
    var identity: Identity

    init(_ raw: stat) {
        switch raw.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        default: kind = .other
        }
        size = Int(raw.st_size)
        identity = Identity(device: UInt64(truncatingIfNeeded: raw.st_dev), inode: UInt64(truncatingIfNeeded: raw.st_ino))
    }
}

/// The few POSIX calls the disk tier makes, each retried on EINTR and failing with a
/// `DiskStoreError.system` that names the call and the path. Plain system calls rather than
/// FileHandle: the store needs `O_EXCL`, `rename(2)`'s atomic replace and the inode of what it
/// read, and it needs errno to tell a missing file from a failing disk.
enum POSIXFile {
    static let notFound = ENOENT

    static func message(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// `lstat(2)`: a symbolic link is reported as `other`, never followed, unless
    /// `followingLinks` asks for `stat(2)` (the configured directory may be a link).
    static func status(_ path: String, followingLinks: Bool = false) throws(DiskStoreError) -> FileStatus {
        var raw = stat()
        let result = followingLinks ? stat(path, &raw) : lstat(path, &raw)
        guard result == 0 else { throw .system(operation: followingLinks ? "stat" : "lstat", path: path, errno: errno) }
        return FileStatus(raw)
    }

    /// `mkdir(2)`, owner only (cached responses are nobody else's business); a directory
    /// already there is fine, anything else there is an error.
    static func makeDirectory(_ path: String) throws(DiskStoreError) {
        guard mkdir(path, 0o700) != 0 else { return }
        let code = errno
        guard code == EEXIST, (try? status(path, followingLinks: true))?.kind == .directory else {
            throw .system(operation: "mkdir", path: path, errno: code == EEXIST ? ENOTDIR : code)
        }
    }

    /// `rename(2)`: replaces `destination` atomically, so a reader opens the old file or the
    /// new one, never a mix.
    static func rename(_ source: String, to destination: String) throws(DiskStoreError) {
        guard retryingInterrupts({ Int(systemRename(source, destination)) }) == 0 else {
            throw .system(operation: "rename to \(destination)", path: source, errno: errno)
        }
    }

    /// `unlink(2)`; a file already gone is not an error.
    static func remove(_ path: String) throws(DiskStoreError) {
        guard retryingInterrupts({ Int(unlink(path)) }) == 0 || errno == ENOENT else {
            throw .system(operation: "unlink", path: path, errno: errno)
        }
    }

    /// Creates `path`, which must not exist, holding `bytes`; on failure removes what it made.
    ///
    /// No fsync: a cache can refetch anything it loses, and a file torn by a crash before the
    /// data reached the disk fails its length or checksum and is deleted, at start-up or on
    /// its first read. Syncing every store would cost a disk flush per response for nothing
    /// a reader could see.
    static func create(_ path: String, holding bytes: [UInt8]) throws(DiskStoreError) {
        let file = try FileDescriptor.create(path)
        do throws(DiskStoreError) {
            try file.write(bytes, path: path)
            try file.close(path: path)
        } catch {
            try? remove(path)
            throw error
        }
    }

    /// The whole file at `path` and the inode it was read from.
    static func contents(of path: String) throws(DiskStoreError) -> (bytes: [UInt8], status: FileStatus) {
        let file = try FileDescriptor.open(path)
        let status = try file.status(path: path)
        return (try file.read(upTo: status.size, path: path), status)
    }

    /// Calls `call` until it fails with something other than EINTR.
    static func retryingInterrupts(_ call: () -> Int) -> Int {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }

    private static func systemRename(_ source: String, _ destination: String) -> Int32 {
        #if canImport(Darwin)
        Darwin.rename(source, destination)
        #elseif canImport(Glibc)
        Glibc.rename(source, destination)
        #else
        Musl.rename(source, destination)
        #endif
    }
}

/// An open file descriptor, closed exactly once: by `close(path:)` when the caller wants to
/// know that close succeeded (a written file), otherwise when it goes out of scope.
struct FileDescriptor: ~Copyable {
    private let raw: Int32

    private init(raw: Int32) { self.raw = raw }

    static func open(_ path: String) throws(DiskStoreError) -> FileDescriptor {
        let raw = POSIXFile.retryingInterrupts { Int(systemOpen(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0)) }
        guard raw >= 0 else { throw .system(operation: "open", path: path, errno: errno) }
        return FileDescriptor(raw: Int32(raw))
    }

    /// `O_EXCL`: two writers can never share a temporary file.
    static func create(_ path: String) throws(DiskStoreError) -> FileDescriptor {
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW
        let raw = POSIXFile.retryingInterrupts { Int(systemOpen(path, flags, 0o600)) }
        guard raw >= 0 else { throw .system(operation: "create", path: path, errno: errno) }
        return FileDescriptor(raw: Int32(raw))
    }

    func status(path: String) throws(DiskStoreError) -> FileStatus {
        var raw = stat()
        guard fstat(self.raw, &raw) == 0 else { throw .system(operation: "fstat", path: path, errno: errno) }
        return FileStatus(raw)
    }

    /// Up to `count` bytes from the current offset; fewer only at the end of the file.
    func read(upTo count: Int, path: String) throws(DiskStoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        let failure: Int32? = bytes.withUnsafeMutableBytes { buffer in
            while filled < count {
                let got = POSIXFile.retryingInterrupts { systemRead(raw, buffer.baseAddress! + filled, count - filled) }
                if got < 0 { return errno }
                if got == 0 { break }
                filled += got
            }
            return nil
        }
        if let failure { throw .system(operation: "read", path: path, errno: failure) }
        bytes.removeLast(count - filled)
        return bytes
    }

    func write(_ bytes: [UInt8], path: String) throws(DiskStoreError) {
        let failure: Int32? = bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let wrote = POSIXFile.retryingInterrupts { systemWrite(raw, buffer.baseAddress! + written, buffer.count - written) }
                if wrote < 0 { return errno }
                written += wrote
            }
            return nil
        }
        if let failure { throw .system(operation: "write", path: path, errno: failure) }
    }

    /// Closes and reports failure, which on some file systems is where a write error shows.
    consuming func close(path: String) throws(DiskStoreError) {
        let raw = raw
        discard self
        guard systemClose(raw) == 0 else { throw .system(operation: "close", path: path, errno: errno) }
    }

    deinit { _ = systemClose(raw) }
}

// The C calls under names that do not collide with the wrappers' own.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
