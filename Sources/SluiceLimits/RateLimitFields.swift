/// Field values for draft-ietf-httpapi-ratelimit-headers-10 and Retry-After (RFC 9110 §10.2.3).
///
/// Each tier is its own quota policy, named "<policy name>-<window>" ("api-10s", "api-1m")
/// so a client can tell them apart; tiers sharing a window also get their index
/// ("api-1s-0"). `RateLimit-Policy` lists every tier; `RateLimit` reports the tier closest
/// to refusing. Seconds are whole and rounded up, so a client that waits them is never early.
/// The policy field does not change for a policy: the data path can build it once.
public enum RateLimitFields {
    /// `RateLimit-Policy`, e.g. `"api-1s";q=1;w=1, "api-10s";q=5;w=10`: q is the tier's limit,
    /// w its window in seconds (at least 1).
    public static func policy(_ policy: LimitPolicy) -> String {
        policy.tiers.indices.map { tier in
            let window = policy.tiers[tier].window
            return "\(identifier(of: tier, in: policy));q=\(policy.tiers[tier].limit);w=\(max(1, seconds(roundingUp: window)))"
        }.joined(separator: ", ")
    }

    /// `RateLimit` for the decision's closest tier, e.g. `"api-10s";r=0;t=7`: r requests
    /// remaining, t seconds until the tier's quota is whole again.
    public static func rateLimit(_ decision: LimitDecision, policy: LimitPolicy) -> String {
        let tier = decision.closestTier
        let reset = seconds(roundingUp: decision.resetAfter(tier))
        return "\(identifier(of: tier, in: policy));r=\(max(0, decision.remaining(tier)));t=\(reset)"
    }

    /// `Retry-After` in seconds (at least 1) for a refused decision; nil when it was allowed
    /// or can never be (the cost is over a tier's capacity: waiting would not help).
    public static func retryAfter(_ decision: LimitDecision) -> String? {
        guard !decision.allowed, decision.retryAfter != .max else { return nil }
        return String(max(1, seconds(roundingUp: decision.retryAfter)))
    }

    /// Whole seconds, rounded up.
    public static func seconds(roundingUp nanoseconds: UInt64) -> UInt64 {
        nanoseconds / nanosecondsPerSecond + (nanoseconds % nanosecondsPerSecond > 0 ? 1 : 0)
    }

    /// Tier `tier`'s quota policy name as an sf-string.
    public static func identifier(of tier: Int, in policy: LimitPolicy) -> String {
        let window = policy.tiers[tier].window
        var name = "\(policy.name)-\(windowLabel(window))"
        if policy.tiers.lazy.filter({ $0.window == window }).count > 1 { name += "-\(tier)" }
        return quoted(name)
    }

    /// `text` as an sf-string (RFC 9651 §3.3.3): quoted, with `"` and `\` escaped. Only
    /// printable ASCII may appear in one; anything else becomes `_`.
    public static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\": result += "\\" + String(scalar)
            case " "..."~": result.unicodeScalars.append(scalar)
            default: result += "_"
            }
        }
        return result + "\""
    }

    /// The window in its largest whole unit: 1h, 5m, 10s, 250ms, or ns.
    static func windowLabel(_ window: UInt64) -> String {
        for (unit, suffix) in [(3_600 * nanosecondsPerSecond, "h"), (60 * nanosecondsPerSecond, "m"),
                               (nanosecondsPerSecond, "s"), (1_000_000, "ms")] where window % unit == 0 {
            return "\(window / unit)\(suffix)"
        }
        return "\(window)ns"
    }

    private static let nanosecondsPerSecond: UInt64 = 1_000_000_000
}
