#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `user`: started as root, Sluice binds its ports and then becomes this user, as nginx and
/// HAProxy do, so that nothing reachable from the network runs as root.
enum Privileges {
    struct DropError: Error, CustomStringConvertible {
        let description: String
    }

    /// Switches the process (every thread: glibc applies set*id to all of them) to `name`, its
    /// primary group and its supplementary groups. Returns what happened, for the log; nil when
    /// there is nothing to do (no `user`, or not root).
    static func drop(to name: String?) throws -> String? {
        guard let name else {
            return geteuid() == 0 ? "running as root: set `user` to switch to an unprivileged user after binding" : nil
        }
        guard geteuid() == 0 else { return "user: \(name) ignored: not started as root (running as uid \(geteuid()))" }
        guard let entry = getpwnam(name) else { throw DropError(description: "user: no such user \"\(name)\"") }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        #if canImport(Darwin)
        let grouped = initgroups(name, Int32(bitPattern: gid))  // Darwin declares the group as int
        #else
        let grouped = initgroups(name, gid)
        #endif
        guard grouped == 0 else { throw DropError(description: "user: initgroups(\(name)) failed: \(reason())") }
        guard setgid(gid) == 0 else { throw DropError(description: "user: setgid(\(gid)) failed: \(reason())") }
        guard setuid(uid) == 0 else { throw DropError(description: "user: setuid(\(uid)) failed: \(reason())") }
        // Root must be gone for good: a setuid that could be undone has not dropped anything.
        guard uid == 0 || setuid(0) != 0 else { throw DropError(description: "user: could regain root after switching to \(name)") }
        return "switched to user \(name) (uid \(uid), gid \(gid))"
    }

    private static func reason() -> String { String(cString: strerror(errno)) }
}
