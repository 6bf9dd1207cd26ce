/// Maglev hashing (Eisenbud et al., NSDI 2016): a lookup table of prime size M maps
/// `key % M` to a backend. Each backend walks its own permutation of the slots,
/// `offset, offset + skip, offset + 2·skip, ...` (mod M), with offset and skip from two XXH64
/// hashes of its identity (seeds 0 and 1); backends take turns claiming their next free slot
/// until the table is full. Shares come out within a slot or two of even, and a change in the
/// backend set moves little more than the changed backend's share.
///
/// Weights, which the paper leaves open, change how often a backend takes a turn, as Envoy
/// does: a backend of weight w takes w turns in every `maxWeight` rounds, so it fills about
/// w / Σw of the table. Turns go in identity order, so the table depends on the identities and
/// weights only, not on their order in the configuration.
///
/// The table holds only the available backends. It is rebuilt inside `pick` when availability
/// changes (O(M log M) steps, a few milliseconds at the default size); otherwise a pick is one
/// lookup. The table takes 4 bytes a slot, 256 KiB at the default size.
public struct Maglev: Balancer {
    /// `table[slot]` is a backend index; empty when no backend was available.
    private var table: [Int32]
    /// The availability of each backend when `table` was built.
    private var builtFor: [Bool]
    private let tableSize: Int
    private let offsets: [Int]
    private let skips: [Int]
    private let weights: [Int]
    /// Backend indices sorted by identity: the order of turns.
    private let turnOrder: [Int]
    private let bound: LoadBound?

    /// - Parameters:
    ///   - identities: a stable name per backend (`"10.0.0.1:80"`), in the order `pick` sees them.
    ///   - weights: configured weights, one per identity.
    ///   - tableSize: M, a prime (`isPrime`); well above the backend count (the paper suggests
    ///     M ≥ 100 × n) so that shares and disruption stay close to ideal.
    ///   - balanceFactor: e of consistent hashing with bounded loads; nil for no bound.
    public init(identities: [String], weights: [Int], tableSize: Int = 65537, balanceFactor: Double? = nil) {
        precondition(identities.count == weights.count, "one weight per identity")
        precondition(Self.isPrime(tableSize), "tableSize must be prime")
        let size = UInt64(tableSize)
        offsets = identities.map { Int(XXHash64.hash($0, seed: 0) % size) }
        // skip in 1..<M is coprime with the prime M, so each permutation visits every slot.
        skips = identities.map { Int(XXHash64.hash($0, seed: 1) % (size - 1)) + 1 }
        self.weights = normalizedWeights(weights)
        turnOrder = identities.indices.sorted { (identities[$0], $0) < (identities[$1], $1) }
        self.tableSize = tableSize
        bound = LoadBound(balanceFactor: balanceFactor)
        builtFor = Array(repeating: true, count: identities.count)
        table = []
        table = populate(available: builtFor)
    }

    /// Whether `number` is prime, for validating a configured table size.
    public static func isPrime(_ number: Int) -> Bool {
        guard number >= 2 else { return false }
        if number < 4 { return true }
        if number % 2 == 0 || number % 3 == 0 { return false }
        var divisor = 5
        while divisor <= number / divisor {
            if number % divisor == 0 || number % (divisor + 2) == 0 { return false }
            divisor += 6
        }
        return true
    }

    public mutating func pick(
        from backends: [BackendView],
        context: PickContext,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        guard backends.count == offsets.count else { return nil }
        guard let key = context.hashKey else { return weightedRandomAvailable(backends, random: &random) }
        rebuildIfAvailabilityChanged(backends)
        guard !table.isEmpty else { return nil }
        let home = Int(key % UInt64(tableSize))
        // Without a bound the home slot always admits: the table holds only available backends.
        let admission = Admission(bound: bound, backends: backends)
        var slot = home
        for _ in 0..<tableSize {
            let backend = Int(table[slot])
            if admission.admits(backends[backend]) { return backend }
            slot += 1
            if slot == tableSize { slot = 0 }
        }
        // Only reachable when M is smaller than the pool and the backends under the bound
        // hold no slot.
        return Int(table[home])
    }

    private mutating func rebuildIfAvailabilityChanged(_ backends: [BackendView]) {
        var changed = false
        for index in backends.indices where backends[index].isAvailable != builtFor[index] {
            changed = true
            break
        }
        guard changed else { return }
        for index in backends.indices { builtFor[index] = backends[index].isAvailable }
        table = populate(available: builtFor)
    }

    /// The paper's population loop with weighted turns.
    private func populate(available: [Bool]) -> [Int32] {
        let members = turnOrder.filter { available[$0] }
        guard let maxWeight = members.map({ weights[$0] }).max() else { return [] }
        var table = [Int32](repeating: -1, count: tableSize)
        var nextSlot = members.map { offsets[$0] }
        var credit = [Int](repeating: 0, count: members.count)
        var filled = 0
        // The heaviest backend claims a slot every round, so each round fills at least one.
        while true {
            for (turn, backend) in members.enumerated() {
                credit[turn] += weights[backend]
                guard credit[turn] >= maxWeight else { continue }
                credit[turn] -= maxWeight
                var slot = nextSlot[turn]
                while table[slot] >= 0 { slot = advance(slot, by: skips[backend]) }
                table[slot] = Int32(backend)
                nextSlot[turn] = advance(slot, by: skips[backend])
                filled += 1
                if filled == tableSize { return table }
            }
        }
    }

    private func advance(_ slot: Int, by skip: Int) -> Int {
        let next = slot + skip
        return next >= tableSize ? next - tableSize : next
    }
}
