/// The policy an `EvictionIndex` runs: one case per kind, so that each operation is a switch
/// and a direct call, no existential. Not generic, so it compiles once here, optimised, and
/// the index's inlined code calls into it.
@usableFromInline
enum IndexPolicy: EvictionPolicy {
    case lru(LRUPolicy)
    case lfu(LFUPolicy)
    case fifo(FIFOPolicy)
    case s3fifo(S3FIFOPolicy)
    /// Held only while an operation mutates a payload taken out of `self`, so that the
    /// payload's arrays are uniquely referenced and mutate in place, not copied.
    case modifying

    @usableFromInline
    init(_ kind: EvictionKind) {
        switch kind {
        case .lru: self = .lru(LRUPolicy())
        case .lfu: self = .lfu(LFUPolicy())
        case .fifo: self = .fifo(FIFOPolicy())
        case .s3fifo: self = .s3fifo(S3FIFOPolicy())
        }
    }

    @usableFromInline
    var usedBytes: Int {
        switch self {
        case .lru(let policy): policy.usedBytes
        case .lfu(let policy): policy.usedBytes
        case .fifo(let policy): policy.usedBytes
        case .s3fifo(let policy): policy.usedBytes
        case .modifying: Self.reentered()
        }
    }

    @usableFromInline
    var count: Int {
        switch self {
        case .lru(let policy): policy.count
        case .lfu(let policy): policy.count
        case .fifo(let policy): policy.count
        case .s3fifo(let policy): policy.count
        case .modifying: Self.reentered()
        }
    }

    @usableFromInline
    func isKept(_ slot: Int32) -> Bool {
        switch self {
        case .lru, .lfu, .fifo: true
        case .s3fifo(let policy): policy.isKept(slot)
        case .modifying: Self.reentered()
        }
    }

    @usableFromInline
    mutating func touch(_ slot: Int32) -> Bool {
        modify { $0.touch(slot) } lfu: { $0.touch(slot) } fifo: { $0.touch(slot) } s3fifo: { $0.touch(slot) }
    }

    @usableFromInline
    mutating func admit(_ slot: Int32, size: Int, remembered: Bool) {
        modify {
            $0.admit(slot, size: size, remembered: remembered)
        } lfu: {
            $0.admit(slot, size: size, remembered: remembered)
        } fifo: {
            $0.admit(slot, size: size, remembered: remembered)
        } s3fifo: {
            $0.admit(slot, size: size, remembered: remembered)
        }
    }

    @usableFromInline
    mutating func replace(_ slot: Int32, size: Int) {
        modify {
            $0.replace(slot, size: size)
        } lfu: {
            $0.replace(slot, size: size)
        } fifo: {
            $0.replace(slot, size: size)
        } s3fifo: {
            $0.replace(slot, size: size)
        }
    }

    @usableFromInline
    mutating func remove(_ slot: Int32) {
        modify { $0.remove(slot) } lfu: { $0.remove(slot) } fifo: { $0.remove(slot) } s3fifo: { $0.remove(slot) }
    }

    @usableFromInline
    mutating func evictOne(capacityBytes: Int) -> (slot: Int32, remembered: Bool)? {
        modify {
            $0.evictOne(capacityBytes: capacityBytes)
        } lfu: {
            $0.evictOne(capacityBytes: capacityBytes)
        } fifo: {
            $0.evictOne(capacityBytes: capacityBytes)
        } s3fifo: {
            $0.evictOne(capacityBytes: capacityBytes)
        }
    }

    @usableFromInline
    mutating func forgetHistory(capacityBytes: Int) -> Int32? {
        guard case .s3fifo = self else { return nil }
        return modify { _ in nil } lfu: { _ in nil } fifo: { _ in nil } s3fifo: { $0.forgetHistory(capacityBytes: capacityBytes) }
    }

    /// Runs the closure of the current case on its payload, taken out of `self` meanwhile.
    private mutating func modify<Result>(
        lru: (inout LRUPolicy) -> Result,
        lfu: (inout LFUPolicy) -> Result,
        fifo: (inout FIFOPolicy) -> Result,
        s3fifo: (inout S3FIFOPolicy) -> Result
    ) -> Result {
        switch self {
        case .lru(var payload):
            self = .modifying
            defer { self = .lru(payload) }
            return lru(&payload)
        case .lfu(var payload):
            self = .modifying
            defer { self = .lfu(payload) }
            return lfu(&payload)
        case .fifo(var payload):
            self = .modifying
            defer { self = .fifo(payload) }
            return fifo(&payload)
        case .s3fifo(var payload):
            self = .modifying
            defer { self = .s3fifo(payload) }
            return s3fifo(&payload)
        case .modifying:
            Self.reentered()
        }
    }

    private static func reentered() -> Never {
        preconditionFailure("an eviction policy was used while it was being modified")
    }
}
