/// Per-backend caps, as Envoy's circuit breakers: past them a request fails fast (or goes to
/// another backend) instead of queueing on one that is already saturated.
public struct CircuitBreakerPolicy: Sendable, Equatable {
    /// Requests in flight to the backend at once; nil for no cap.
    public var maxInFlight: Int?
    /// Connections being established to the backend at once; nil for no cap.
    public var maxPendingConnects: Int?

    public init(maxInFlight: Int? = nil, maxPendingConnects: Int? = nil) {
        self.maxInFlight = maxInFlight
        self.maxPendingConnects = maxPendingConnects
    }

    /// Whether one more request may go to the backend. The counts are those before this
    /// request; `needsConnect` says it would open a new connection rather than reuse one.
    public func allows(inFlight: Int, pendingConnects: Int, needsConnect: Bool) -> Bool {
        if let maxInFlight, inFlight >= maxInFlight { return false }
        if needsConnect, let maxPendingConnects, pendingConnects >= maxPendingConnects { return false }
        return true
    }
}
