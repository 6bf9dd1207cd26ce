import SluiceCache

/// Where each entry's file lives: `<directory>/<ab>/<abcdef…>`, the file named by the 64
/// lowercase hex digits of the SHA-256 of the entry's id and kept in the subdirectory named by
/// its first two (nginx's `levels=2`, taken from the front). 256 subdirectories keep any one
/// directory small enough that lookups in it stay fast on every common file system.
struct DiskLayout: Sendable {
    let directory: String

    init(directory: String) {
        // One trailing slash fewer, so that paths in the log read cleanly.
        var directory = directory
        while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
        self.directory = directory
    }

    /// "00" … "ff".
    static let subdirectories: [String] = (0..<256).map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    static func fileName(of id: String) -> String { SHA256.hex(id) }

    func subdirectory(_ name: String) -> String { directory + "/" + name }

    func path(ofFile name: String) -> String { directory + "/" + name.prefix(2) + "/" + name }

    /// A fresh temporary name beside the final one: the same directory, so that `rename(2)`
    /// stays within one file system and is atomic.
    func temporaryPath(ofFile name: String) -> String {
        path(ofFile: name) + Self.temporaryMarker + String(UInt64.random(in: .min ... .max), radix: 16)
    }

    static let temporaryMarker = ".tmp."

    static func isTemporaryName(_ name: String) -> Bool { name.contains(temporaryMarker) }

    /// Whether `name` is shaped like an entry's file name: 64 lowercase hex digits.
    static func isEntryName(_ name: String) -> Bool {
        name.utf8.count == 64 && name.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }
}
