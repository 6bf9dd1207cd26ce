import NIOCore
import NIOPosix

/// One event-loop group for the tests' clients and backends (the proxy under test has its own).
let testGroup: MultiThreadedEventLoopGroup = .singleton

/// Waits (bounded) until `condition` holds; for effects that happen on another thread, such
/// as a backend noticing a closed connection. Returns whether it held in time.
func eventually(within seconds: Double = 10, _ condition: () async -> Bool) async -> Bool {
    let end = NIODeadline.now() + .milliseconds(Int64(seconds * 1000))
    while NIODeadline.now() < end {
        if await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return await condition()
}

import Foundation

/// A file under the system temporary directory, removed when the value goes away.
final class TemporaryFile {
    let path: String

    init(contents: String = "", name: String = "sluice-test") throws {
        path = NSTemporaryDirectory() + "\(name)-\(UInt64.random(in: 0...UInt64.max))"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
