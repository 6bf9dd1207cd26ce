/// What `EvictionIndex` asks of each policy, in slot numbers: the index maps keys to slots,
/// a policy only orders slots. So the policies are not generic over the key type and compile
/// once, fully optimised, inside this module; only the index's thin key layer is specialised
/// by its callers (see `EvictionIndex`).
protocol EvictionPolicy: Sendable {
    /// Bytes of the entries kept: what the capacity bounds.
    var usedBytes: Int { get }
    /// Entries kept (S3-FIFO's ghost slots are not kept entries).
    var count: Int { get }
    /// Whether `slot`, which the index has given a key, holds a kept entry; false for
    /// S3-FIFO's ghosts.
    func isKept(_ slot: Int32) -> Bool
    /// Records a hit on `slot`; false when it is not kept (a ghost).
    mutating func touch(_ slot: Int32) -> Bool
    /// Keeps `slot` at `size` bytes: a new slot, or one the policy `remembered` as a ghost.
    /// The index has made room first (S3-FIFO's Algorithm 1: "while cache is full do evict();
    /// insert"), so a new entry is never its own victim.
    mutating func admit(_ slot: Int32, size: Int, remembered: Bool)
    /// Gives kept `slot` a new size, as a hit: a response stored again under a key was just
    /// requested.
    mutating func replace(_ slot: Int32, size: Int)
    /// Forgets kept `slot`.
    mutating func remove(_ slot: Int32)
    /// Chooses a kept slot and stops keeping it; `remembered` when the policy still knows it
    /// (as a ghost) and the index must keep its key. nil when nothing is kept.
    mutating func evictOne(capacityBytes: Int) -> (slot: Int32, remembered: Bool)?
    /// A remembered slot the policy lets go of, once the history is over its bound; nil when
    /// it is not. The index frees it.
    mutating func forgetHistory(capacityBytes: Int) -> Int32?
}

extension EvictionPolicy {
    func isKept(_ slot: Int32) -> Bool { true }
    mutating func forgetHistory(capacityBytes: Int) -> Int32? { nil }
}
