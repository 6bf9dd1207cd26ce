import Atomics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SluiceConfig
import SluiceLimits
import SluiceRedis

/// A route's rate limits for one request: allowed (with the fields its response carries) or
/// refused (with the answer to send).
enum Admission {
    case allowed(fields: [(String, String)])
    case refused(Refusal)
}

struct Refusal {
    let status: HTTPResponseStatus
    let body: String
    /// Retry-After, RateLimit-Policy and RateLimit.
    let fields: [(String, String)]
    /// For the access log's `error`.
    let logReason: String
}

/// Decided now, or after the shared store or a token verification answers.
enum AdmissionStep {
    case done(Admission)
    case pending(EventLoopFuture<Admission>)
}

/// What one policy counted since start; the metrics endpoint (issue 7) reads these.
final class PolicyCounters: Sendable {
    let allowed = ManagedAtomic<Int>(0)
    let denied = ManagedAtomic<Int>(0)
    let shadowed = ManagedAtomic<Int>(0)
    let skipped = ManagedAtomic<Int>(0)
    let storeErrors = ManagedAtomic<Int>(0)
}

/// One `rate_limits` policy at run time.
final class PolicyRuntime: Sendable {
    let config: RateLimitPolicy
    let policy: LimitPolicy
    /// `RateLimit-Policy` never changes for a policy, so it is built once.
    let policyField: String
    let counters: PolicyCounters
    let local: LocalLimitStore?
    let global: GlobalLimit?

    init(config: RateLimitPolicy, policy: LimitPolicy, global: GlobalLimit?, counters: PolicyCounters = PolicyCounters()) {
        self.counters = counters
        self.config = config
        self.policy = policy
        self.global = global
        policyField = RateLimitFields.policy(policy)
        local = global == nil ? LocalLimitStore(policy: policy, maxKeys: config.maxKeys) : nil
    }

    /// Gives back one request this policy allowed, when a later policy refused it.
    func refund(keyHash: UInt64, now: UInt64) {
        if let local { local.giveBack(keyHash: keyHash, count: 1, now: now) } else { global?.refund(keyHash: keyHash) }
    }

    /// This policy's verdict for the request: a decision now, or once the shared store answers.
    func decide(keyHash: UInt64, now: UInt64, eventLoop: any EventLoop) -> PolicyStep {
        if let local { return .done(local.decide(keyHash: keyHash, now: now)) }
        return global!.spend(keyHash: keyHash, now: now, eventLoop: eventLoop)
    }
}

enum PolicyStep {
    case done(LimitDecision)
    case pending(EventLoopFuture<LimitDecision>)
}

/// Every policy of the running configuration, and what their keys need (regions, JWT).
final class RateLimiter: Sendable {
    let policies: [String: PolicyRuntime]
    /// Each route's policies in order, and the JWT claims their keys name: resolved once
    /// here rather than on every request.
    private let plans: [String: Plan]
    private let regions: RegionIndex?
    private let claims: ClaimSource?
    private let logger: Logger
    /// One client per distinct Redis URL, so that a reload keeps the ones it still uses.
    let stores: [String: RedisLimitStore]
    /// Clears idle keys from the local stores (each insert also sweeps a few slots).
    let sweeper = NIOLockedValueBox<RepeatedTask?>(nil)

    struct Plan {
        let runtimes: [PolicyRuntime]
        let claims: Set<String>
    }

    init(policies: [String: PolicyRuntime], routes: [RouteConfig], regions: RegionIndex?, claims: ClaimSource?, logger: Logger,
         stores: [String: RedisLimitStore] = [:])
    {
        var plans: [String: Plan] = [:]
        for route in routes where !route.rateLimits.isEmpty {
            let runtimes = route.rateLimits.compactMap { policies[$0] }
            let names = runtimes.flatMap { $0.config.key.compactMap { if case .jwtClaim(let name) = $0 { name } else { nil } } }
            plans[route.name] = Plan(runtimes: runtimes, claims: Set(names))
        }
        self.plans = plans
        self.policies = policies
        self.regions = regions
        self.claims = claims
        self.logger = logger
        self.stores = stores
    }

    /// The request's route's policies in order; all must allow. A policy that refuses ends the
    /// check (the ones after it spend nothing, the ones before get theirs back); shadow policies
    /// count and log a refusal but allow.
    func check(request: LimitRequest, now: UInt64, eventLoop: any EventLoop) -> AdmissionStep {
        guard let plan = plans[request.route] else { return .done(.allowed(fields: [])) }
        let runtimes = plan.runtimes
        let wanted = plan.claims
        guard !wanted.isEmpty, let claims else {
            return evaluate(runtimes[...], request: request, now: now, eventLoop: eventLoop)
        }
        let authorization = request.head.headers.first(name: "authorization")
        if let known = claims.cached(authorization: authorization, names: wanted) {
            var request = request
            request.claims = known
            return evaluate(runtimes[...], request: request, now: now, eventLoop: eventLoop)
        }
        let verified = claims.verify(authorization: authorization, names: wanted, eventLoop: eventLoop)
        return .pending(verified.flatMap { found in
            var request = request
            request.claims = found
            return self.evaluate(runtimes[...], request: request, now: NIODeadline.now().uptimeNanoseconds, eventLoop: eventLoop)
                .future(on: eventLoop)
        })
    }

    /// What the policies before a refusal spent, to give back: a client refused by one
    /// policy is not charged by the others (as nginx's limit_req over several zones).
    private struct Progress {
        var fields: [(String, String)] = []
        var spent: [(runtime: PolicyRuntime, key: UInt64)] = []
    }

    private func evaluate(_ runtimes: ArraySlice<PolicyRuntime>, request: LimitRequest, now: UInt64, eventLoop: any EventLoop,
                          progress: Progress = Progress()) -> AdmissionStep
    {
        var progress = progress
        var rest = runtimes
        while let runtime = rest.popFirst() {
            let config = runtime.config
            if let address = request.clientAddress, config.allowCIDRs.contains(where: { $0.contains(address) }) {
                runtime.counters.skipped.wrappingIncrement(ordering: .relaxed)
                continue
            }
            let key = LimitKey.hash(config.key, request: request, ipv6Prefix: config.ipv6Prefix, regions: regions)
            switch runtime.decide(keyHash: key, now: now, eventLoop: eventLoop) {
            case .done(let decision):
                if let refusal = settle(decision, runtime, key: key, request: request, progress: &progress) {
                    return .done(.refused(refusal))
                }
            case .pending(let decided):
                let remaining = rest
                let soFar = progress
                return .pending(decided.flatMap { decision in
                    var progress = soFar
                    if let refusal = self.settle(decision, runtime, key: key, request: request, progress: &progress) {
                        return eventLoop.makeSucceededFuture(.refused(refusal))
                    }
                    // Time has passed while the store answered.
                    return self.evaluate(remaining, request: request, now: NIODeadline.now().uptimeNanoseconds, eventLoop: eventLoop,
                                         progress: progress).future(on: eventLoop)
                })
            }
        }
        return .done(.allowed(fields: Self.merged(progress.fields)))
    }

    /// `apply`, then on a refusal the earlier policies' spending goes back.
    private func settle(_ decision: LimitDecision, _ runtime: PolicyRuntime, key: UInt64, request: LimitRequest,
                        progress: inout Progress) -> Refusal?
    {
        guard let refusal = apply(decision, runtime, request: request, fields: &progress.fields) else {
            if decision.allowed, !runtime.config.shadow { progress.spent.append((runtime, key)) }
            return nil
        }
        let now = NIODeadline.now().uptimeNanoseconds
        for (earlier, key) in progress.spent {
            earlier.refund(keyHash: key, now: now)
            earlier.counters.allowed.wrappingDecrement(ordering: .relaxed)
        }
        return refusal
    }

    /// Counts the decision and adds its fields; returns the refusal to send, if any.
    private func apply(_ decision: LimitDecision, _ runtime: PolicyRuntime, request: LimitRequest,
                       fields: inout [(String, String)]) -> Refusal?
    {
        let config = runtime.config
        // A decision without tiers came from on_store_error: no quota to report.
        let known = decision.tierCount > 0
        if decision.allowed {
            runtime.counters.allowed.wrappingIncrement(ordering: .relaxed)
            if config.responseHeaders, !config.shadow, known {
                fields.append(("RateLimit-Policy", runtime.policyField))
                fields.append(("RateLimit", RateLimitFields.rateLimit(decision, policy: runtime.policy)))
            }
            return nil
        }
        if config.shadow {
            runtime.counters.shadowed.wrappingIncrement(ordering: .relaxed)
            logger.info("rate limit would refuse (shadow)", metadata: [
                "policy": "\(config.name)", "client": "\(request.clientIP)", "route": "\(request.route)",
            ])
            return nil
        }
        runtime.counters.denied.wrappingIncrement(ordering: .relaxed)
        guard known else {
            // on_store_error: deny. The client is not over any quota: Sluice cannot tell, so it
            // answers as a dependency that is down (Envoy's failure_mode_deny answers a 5xx too).
            return Refusal(status: .serviceUnavailable, body: "rate limit store unavailable",
                           fields: [("Retry-After", "1")], logReason: "rate limit \(config.name): store unavailable")
        }
        var answer: [(String, String)] = []
        if let retryAfter = RateLimitFields.retryAfter(decision) { answer.append(("Retry-After", retryAfter)) }
        answer.append(("RateLimit-Policy", runtime.policyField))
        answer.append(("RateLimit", RateLimitFields.rateLimit(decision, policy: runtime.policy)))
        return Refusal(status: HTTPResponseStatus(statusCode: config.status), body: config.body, fields: answer,
                       logReason: "rate limit \(config.name)")
    }

    /// One field line per name: structured-field lists combine by joining with ", ".
    private static func merged(_ fields: [(String, String)]) -> [(String, String)] {
        guard fields.count > 2 else { return fields }
        var policy: [String] = [], current: [String] = []
        for (name, value) in fields { if name == "RateLimit" { current.append(value) } else { policy.append(value) } }
        return [("RateLimit-Policy", policy.joined(separator: ", ")), ("RateLimit", current.joined(separator: ", "))]
    }
}

extension AdmissionStep {
    func future(on eventLoop: any EventLoop) -> EventLoopFuture<Admission> {
        switch self {
        case .done(let admission): eventLoop.makeSucceededFuture(admission)
        case .pending(let future): future
        }
    }
}
