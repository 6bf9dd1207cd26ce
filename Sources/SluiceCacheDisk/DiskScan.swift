import Foundation
import SluiceCache

/// The start-up pass that rebuilds the index from the directory alone: it reads each file's
/// fixed header and metadata (not its body, whose checksum every read verifies), and deletes
/// what cannot be an entry, logging the path and the reason. Without it a restart would leave
/// every file unaccounted for, outside the capacity and unreachable.
///
/// What goes: leftover temporary files (a write cut short), files whose size is not the one
/// their header gives (torn), whose magic, version or header checksum is wrong (foreign or
/// damaged), whose name is not the hash of the id they hold, and files outside the 256
/// subdirectories. Directories that are not ours are logged and left alone (a mount point's
/// `lost+found`, say); so are files that cannot be read for a system reason, which a later
/// start may read.
struct DiskScan {
    /// An entry file that passed, for the index.
    struct Found {
        var id: String
        var record: DiskIndex.Record
        var responseTime: Int64
    }

    let layout: DiskLayout
    let log: @Sendable (String) -> Void

    /// Creates the directory and its parents where missing.
    func createDirectory() throws(DiskStoreError) {
        var parent = layout.directory.hasPrefix("/") ? "" : "."
        for component in layout.directory.split(separator: "/") {
            parent += "/" + component
            try POSIXFile.makeDirectory(parent)
        }
    }

    /// Creates the 256 subdirectories where missing; after `run`, which deletes a file or link
    /// that stands where one should be.
    func createLevels() throws(DiskStoreError) {
        for level in DiskLayout.subdirectories { try POSIXFile.makeDirectory(layout.subdirectory(level)) }
    }

    /// Every valid entry file, after deleting the rest.
    func run() -> [Found] {
        let levels = Set(DiskLayout.subdirectories)
        var found: [Found] = []
        for name in list(layout.directory) {
            let path = layout.directory + "/" + name
            guard let status = status(path) else { continue }
            if levels.contains(name), status.kind == .directory {
                found += scanSubdirectory(name)
            } else if status.kind == .directory {
                log("disk cache: ignored \(path): a directory that is not one of the 256 levels")
            } else {
                discard(path, because: DiskLayout.isTemporaryName(name) ? "leftover temporary file" : "foreign file outside the level directories")
            }
        }
        return found
    }

    private func scanSubdirectory(_ level: String) -> [Found] {
        var found: [Found] = []
        for name in list(layout.subdirectory(level)) {
            let path = layout.subdirectory(level) + "/" + name
            guard let status = status(path) else { continue }
            if status.kind == .directory {
                log("disk cache: ignored \(path): a directory inside a level directory")
            } else if DiskLayout.isTemporaryName(name) {
                discard(path, because: "leftover temporary file")
            } else if !DiskLayout.isEntryName(name) || !name.hasPrefix(level) {
                discard(path, because: "foreign file (not named by an entry's SHA-256)")
            } else if status.kind != .regular {
                discard(path, because: "not a regular file")
            } else if let entry = inspect(path, name: name) {
                found.append(entry)
            }
        }
        return found
    }

    /// The entry in the file at `path`, or nil after deleting or skipping it.
    private func inspect(_ path: String, name: String) -> Found? {
        do {
            let file = try FileDescriptor.open(path)
            let size = try file.status(path: path).size
            var prefix = try file.read(upTo: min(size, DiskFileHeader.size), path: path)
            let header = try DiskFileHeader(parsing: prefix[...], fileSize: size)
            prefix += try file.read(upTo: header.metadataLength, path: path)
            let entry = try DiskEntryDecoder.metadata(prefix[...], header: header)
            guard DiskLayout.fileName(of: entry.id) == name else {
                throw DiskFormatError("holds id \(entry.id.debugDescription), whose file has another name")
            }
            let record = DiskIndex.Record(fileName: name, primary: entry.primary, uri: entry.uri, tags: entry.tags, size: size)
            return Found(id: entry.id, record: record, responseTime: entry.responseTime)
        } catch let error as DiskFormatError {
            discard(path, because: error.description)
        } catch {
            log("disk cache: skipped \(path), left in place: \(error)")
        }
        return nil
    }

    private func discard(_ path: String, because reason: String) {
        do throws(DiskStoreError) {
            try POSIXFile.remove(path)
            log("disk cache: deleted \(path): \(reason)")
        } catch {
            log("disk cache: could not delete \(path) (\(reason)): \(error)")
        }
    }

    private func list(_ directory: String) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            log("disk cache: could not list \(directory): \(error)")
            return []
        }
    }

    private func status(_ path: String) -> FileStatus? {
        do throws(DiskStoreError) {
            return try POSIXFile.status(path)
        } catch {
            // Gone between listing and lstat: nothing to index.
            if !error.isNotFound { log("disk cache: skipped \(path): \(error)") }
            return nil
        }
    }
}
