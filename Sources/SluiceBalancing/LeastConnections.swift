/// The available backend with the least load, where load is `(inFlight + 1) / weight`: the
/// share of the backend's capacity the new request would find taken, counting itself. The +1
/// makes weights matter on idle backends too (a weight-10 backend with one request beats a
/// weight-1 backend with none), as in nginx's least_conn.
///
/// Ties, common when the cluster is lightly loaded, go to a uniformly random one of the tied
/// backends rather than the first in the list (which would pile idle-time traffic on backend 0)
/// or a rotating start (which favours whichever tie follows the longest run of busier
/// backends). A draw, and a second pass over the list, only when there is a tie.
public struct LeastConnections: Balancer {
    public init() {}

    public func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        var first = -1
        var least = BackendLoad.none
        var ties = 0
        for index in backends.indices where backends[index].isAvailable {
            let load = BackendLoad(backends[index])
            switch load.compared(with: least) {
            case .lighter:
                first = index
                least = load
                ties = 1
            case .equal:
                ties += 1
            case .heavier:
                break
            }
        }
        guard first >= 0 else { return nil }
        guard ties > 1 else { return first }
        // The tied backends all come at or after the first of them.
        var remaining = randomIndex(below: ties, using: &random)
        for index in first..<backends.count where backends[index].isAvailable {
            guard BackendLoad(backends[index]).compared(with: least) == .equal else { continue }
            if remaining == 0 { return index }
            remaining -= 1
        }
        return first
    }
}

/// How one backend's `(inFlight + 1) / weight` compares with another's.
enum LoadComparison: Sendable, Equatable {
    case lighter
    case equal
    case heavier
}

/// A backend's `(inFlight + 1) / weight` as an exact fraction, compared by cross-multiplication:
/// no floating point or division. Counts and weights are capped at 2^32 - 1, far beyond any
/// real one, so that the products fit 64 bits and nothing can overflow.
struct BackendLoad: Sendable {
    private let requests: UInt64
    private let weight: UInt64

    /// Heavier than any backend's load, as if infinitely many requests were in flight.
    static let none = BackendLoad(requests: 1, weight: 0)

    private init(requests: UInt64, weight: UInt64) {
        self.requests = requests
        self.weight = weight
    }

    init(_ backend: BackendView) {
        requests = UInt64(UInt32(clamping: backend.inFlight)) + 1
        weight = UInt64(UInt32(clamping: max(1, backend.weight)))
    }

    func compared(with other: BackendLoad) -> LoadComparison {
        let mine = requests * other.weight
        let theirs = other.requests * weight
        if mine < theirs { return .lighter }
        if mine > theirs { return .heavier }
        return .equal
    }
}
