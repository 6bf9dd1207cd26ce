/// Why the disk tier could not store an entry or open its directory.
public enum DiskStoreError: Error, Equatable, CustomStringConvertible {
    /// The entry's file would be larger than the whole store, so it is not written (and an
    /// older file of the same id is removed, since it no longer describes the resource).
    case entryTooLarge(id: String, size: Int, capacity: Int)
    /// The entry cannot be put in the format (a section longer than 4 GiB).
    case unencodable(id: String, reason: String)
    /// A system call failed: `operation` on `path`, with `errno`.
    case system(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .entryTooLarge(id, size, capacity):
            "entry \(id.debugDescription) is \(size) bytes on disk, more than the capacity of \(capacity)"
        case let .unencodable(id, reason):
            "entry \(id.debugDescription) cannot be encoded: \(reason)"
        case let .system(operation, path, code):
            "\(operation) \(path): \(POSIXFile.message(code)) (errno \(code))"
        }
    }

    var isNotFound: Bool {
        if case let .system(_, _, code) = self { return code == POSIXFile.notFound }
        return false
    }
}
