import NIOCore

extension TimeAmount {
    /// Config durations are Swift `Duration`s; NIO schedules in `TimeAmount`.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
