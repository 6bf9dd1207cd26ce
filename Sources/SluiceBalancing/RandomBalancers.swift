/// A backend drawn uniformly from the available ones, ignoring weights and load.
///
/// A few direct draws over the whole list, each kept only if it lands on an available backend,
/// make the usual pick O(1); when they all miss (most backends out), one exact pass draws by
/// rank among the available ones. Either way every available backend is equally likely.
public struct RandomPick: Balancer {
    public init() {}

    public func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        uniformAvailableIndex(in: backends, random: &random)
    }
}

/// A backend drawn from the available ones with probability proportional to its effective
/// weight. One pass totals the weights, a second finds the drawn backend; nothing is kept
/// between picks, so weight changes (slow start) apply at once.
public struct WeightedRandom: Balancer {
    public init() {}

    public func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        var totalWeight = 0
        for backend in backends where backend.isAvailable {
            totalWeight += max(1, backend.weight)
        }
        guard totalWeight > 0 else { return nil }
        var remaining = randomIndex(below: totalWeight, using: &random)
        for index in backends.indices where backends[index].isAvailable {
            remaining -= max(1, backends[index].weight)
            if remaining < 0 { return index }
        }
        return nil
    }
}

/// How many direct draws to try before counting the available backends. Each draw is kept only
/// when it lands on available backends, so any number keeps the result uniform; four make the
/// exact pass rare unless most of the list is out.
let directDrawAttempts = 4

/// The index of a uniformly drawn available backend, or nil when none is available.
func uniformAvailableIndex(
    in backends: [BackendView],
    random: inout some RandomNumberGenerator
) -> Int? {
    let count = backends.count
    guard count > 0 else { return nil }
    for _ in 0..<directDrawAttempts {
        let index = randomIndex(below: count, using: &random)
        if backends[index].isAvailable { return index }
    }
    var available = 0
    for backend in backends where backend.isAvailable { available += 1 }
    guard available > 0 else { return nil }
    return indexOfAvailable(rank: randomIndex(below: available, using: &random), in: backends)
}

/// The index of the `rank`-th available backend (counting from 0).
func indexOfAvailable(rank: Int, in backends: [BackendView]) -> Int? {
    var remaining = rank
    for index in backends.indices where backends[index].isAvailable {
        if remaining == 0 { return index }
        remaining -= 1
    }
    return nil
}

/// A uniform integer in `0..<bound` (bound at least 1), by Lemire's multiply-and-reject on
/// 64-bit draws. Only the draw goes through the generator; the arithmetic is concrete, so it
/// stays cheap where the caller's generator type is not specialised, as across modules, where
/// `Int.random(in:using:)` runs its generic integer code unspecialised.
func randomIndex(below bound: Int, using random: inout some RandomNumberGenerator) -> Int {
    let range = UInt64(bound)
    var product = random.next().multipliedFullWidth(by: range)
    if product.low < range {
        // Reject the few low parts that would make some results one draw more likely.
        let threshold = (0 &- range) % range
        while product.low < threshold {
            product = random.next().multipliedFullWidth(by: range)
        }
    }
    return Int(product.high)
}
