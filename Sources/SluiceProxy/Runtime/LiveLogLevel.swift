import Atomics
import Logging

/// The level of Sluice's own log lines: `log.level` at start, changed by a reload, unless
/// `--log-level` pinned it. Handlers wrapped in `LiveLevelLogHandler` read it on every line.
public enum LiveLogLevel {
    private static let level = ManagedAtomic<Int>(index(of: .info))
    private static let pinned = ManagedAtomic<Bool>(false)

    public static var current: Logger.Level { Logger.Level.allCases[level.load(ordering: .relaxed)] }

    /// `pin`: from the command line, which a reloaded file does not override.
    public static func set(_ new: Logger.Level, pin: Bool = false) {
        level.store(index(of: new), ordering: .relaxed)
        if pin { pinned.store(true, ordering: .relaxed) }
    }

    /// A reloaded `log.level` (already validated by the loader); nil when nothing changed or
    /// `--log-level` pins the level, else the level now in force.
    static func apply(configured text: String) -> Logger.Level? {
        guard !pinned.load(ordering: .relaxed), let new = Logger.Level(rawValue: text), new != current else { return nil }
        set(new)
        return new
    }

    private static func index(of level: Logger.Level) -> Int { Logger.Level.allCases.firstIndex(of: level) ?? 2 }
}

/// Any handler, with its level taken from `LiveLogLevel` on every check (swift-log asks the
/// handler's `logLevel` before each line), so that a reload can change it.
public struct LiveLevelLogHandler<Wrapped: LogHandler>: LogHandler {
    private var wrapped: Wrapped

    public init(_ wrapped: Wrapped) {
        self.wrapped = wrapped
        // The wrapper decides; the wrapped handler lets everything through.
        self.wrapped.logLevel = .trace
    }

    public var logLevel: Logger.Level {
        get { LiveLogLevel.current }
        set {}  // a Logger's own `logLevel =` would otherwise pin one logger; the live level wins
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) { wrapped.log(event: event) }
}
