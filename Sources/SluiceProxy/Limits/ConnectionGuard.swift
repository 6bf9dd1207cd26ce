import NIOConcurrencyHelpers
import SluiceBalancing
import SluiceConfig
import SluiceLimits

/// The accept-time defences: access lists, concurrent connections per peer address, and the
/// rate of new connections per peer address. A refused connection is closed before a byte is
/// read, as HAProxy's `tcp-request connection reject`.
final class ConnectionGuard: Sendable {
    enum Refusal: Error, CustomStringConvertible {
        case denied, notAllowed, tooManyFromPeer(Int), acceptRate(Int)

        var description: String {
            switch self {
            case .denied: "peer in access.deny"
            case .notAllowed: "peer not in access.allow"
            case .tooManyFromPeer(let limit): "more than \(limit) connections from this peer (limits.max_connections_per_ip)"
            case .acceptRate(let limit): "more than \(limit) new connections per second from this peer (limits.accept_rate_per_ip)"
            }
        }
    }

    private let access: AccessConfig
    private let maxPerPeer: Int
    private let acceptRate: Int
    /// Open connections per peer address; entries go when their count reaches 0. Shared with
    /// the guards of later configurations, so a reload neither forgets nor double-counts.
    private let open: NIOLockedValueBox<[String: Int]>
    private let accepts: LocalLimitStore?

    /// With `previous` (a reload), the open-connection counts carry over, and so do the
    /// accept-rate buckets when the rate did not change.
    init(limits: Limits, access: AccessConfig, previous: ConnectionGuard? = nil) {
        self.access = access
        maxPerPeer = limits.maxConnectionsPerIP
        acceptRate = limits.acceptRatePerIP
        open = previous?.open ?? NIOLockedValueBox([:])
        if let previous, previous.acceptRate == limits.acceptRatePerIP {
            accepts = previous.accepts
        } else {
            // A one-tier token bucket of `accept_rate_per_ip` per second cannot be invalid.
            accepts = limits.acceptRatePerIP > 0
                ? LocalLimitStore(policy: try! LimitPolicy(name: "accept", algorithm: .tokenBucket,
                                                           tiers: [LimitTier(limit: limits.acceptRatePerIP, window: 1_000_000_000)]),
                                  maxKeys: 100_000)
                : nil
        }
    }

    /// Admits a new connection from `ip` (text) / `address` (bytes) or says why not. An
    /// admitted connection must be `released` when it closes.
    func admit(ip: String, address: [UInt8]?, now: UInt64) -> Result<Void, Refusal> {
        if let refusal = accessRefusal(address: address) { return .failure(refusal) }
        if let accepts, !accepts.decide(keyHash: XXHash64.hash(ip), cost: 1, now: now).allowed {
            return .failure(.acceptRate(acceptRate))
        }
        if maxPerPeer > 0 {
            let admitted = open.withLockedValue { open -> Bool in
                let count = open[ip, default: 0]
                guard count < maxPerPeer else { return false }
                open[ip] = count + 1
                return true
            }
            if !admitted { return .failure(.tooManyFromPeer(maxPerPeer)) }
        }
        return .success(())
    }

    /// The access lists' verdict alone: at accept, and again for open connections when a
    /// reload changed the lists.
    func accessRefusal(address: [UInt8]?) -> Refusal? {
        if let address {
            if access.deny.contains(where: { $0.contains(address) }) { return .denied }
            if !access.allow.isEmpty, !access.allow.contains(where: { $0.contains(address) }) { return .notAllowed }
        } else if !access.allow.isEmpty {
            return .notAllowed  // an allow list fails closed on a peer it cannot place
        }
        return nil
    }

    /// Called on the guard that admitted the connection: only a guard with a cap counted it.
    func release(ip: String) {
        guard maxPerPeer > 0 else { return }
        open.withLockedValue { open in
            let count = open[ip, default: 1] - 1
            open[ip] = count > 0 ? count : nil
        }
    }

    /// Connections open from `ip`, for tests.
    func openConnections(from ip: String) -> Int { open.withLockedValue { $0[ip, default: 0] } }
}
