/// Which policy chooses the in-memory cache's victims; the raw value is the configuration name.
public enum EvictionKind: String, Sendable, CaseIterable {
    /// Least recently used: a hit makes an entry the last to go.
    case lru
    /// Least frequently used, ties to the least recently used; counts halve as they age
    /// (see `LFUPolicy`).
    case lfu
    /// First in, first out: hits change nothing, so a hit costs no write.
    case fifo
    /// S3-FIFO (Yang et al., SOSP 2023): a small probation queue in front of a main queue,
    /// which keeps objects requested once from pushing out the ones requested again.
    case s3fifo
}
