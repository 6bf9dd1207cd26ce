/// Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam; HAProxy's
/// `hash-balance-factor`, Envoy's `hash_balance_factor`): a backend may take a new request
/// only while `inFlight + 1 <= ceil((1 + e) × (T + 1) × w / W)`, with T the requests in flight
/// and W the total weight of the available backends. With equal weights that is
/// `ceil((1 + e) × (T + 1) / n)`; weighting it, as HAProxy does, keeps a heavy backend from being
/// capped at the mean of light ones. A hot key then spills to the next backend in its hash order
/// instead of piling onto one. Some backend is always under its bound: they cannot all hold more
/// than their share of T.
struct LoadBound: Sendable {
    /// (1 + e) in ten-thousandths, so capacities are exact integer arithmetic and every instance
    /// rounds the same way.
    fileprivate let scaledFactor: Int
    fileprivate static let scale = 10_000

    /// nil when `balanceFactor` is nil: no bound.
    init?(balanceFactor: Double?) {
        guard let factor = balanceFactor else { return nil }
        // The upper limit keeps the capacity product far from Int overflow.
        precondition(factor >= 0 && factor <= 100, "balanceFactor must be in 0...100")
        scaledFactor = Int(((1 + factor) * Double(Self.scale)).rounded())
    }
}

/// Which backends may take the request being picked: the available ones, and with a bound only
/// those under it. Built once per pick, so the totals are summed once.
struct Admission {
    private let bound: LoadBound?
    private var totalInFlight = 0
    private var totalWeight = 0

    init(bound: LoadBound?, backends: [BackendView]) {
        self.bound = bound
        guard bound != nil else { return }
        for backend in backends where backend.isAvailable {
            totalInFlight += backend.inFlight
            totalWeight += max(1, backend.weight)
        }
    }

    func admits(_ backend: BackendView) -> Bool {
        guard backend.isAvailable else { return false }
        guard let bound else { return true }
        let numerator = bound.scaledFactor * (totalInFlight + 1) * max(1, backend.weight)
        let denominator = LoadBound.scale * max(1, totalWeight)
        let capacity = (numerator + denominator - 1) / denominator
        return backend.inFlight + 1 <= capacity
    }
}
