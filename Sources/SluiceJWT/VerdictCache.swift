/// `nbf` and `exp` of a verified token, checked against the caller's clock both when the token
/// is verified and each time it is answered from the cache, so the two paths always agree.
struct TimeWindow: Sendable {
    var notBefore: Double?
    var expiration: Double?

    func rejection(at now: Double, leeway: Double) -> Rejection? {
        if let expiration, now >= expiration + leeway {
            return Rejection("token expired")
        }
        if let notBefore, now < notBefore - leeway {
            return Rejection("token not yet valid (nbf)", validFrom: notBefore - leeway)
        }
        return nil
    }
}

/// A token that verified: the claim to key on, and when it stops being valid.
struct Accepted: Sendable {
    var claim: String
    var window: TimeWindow
}

/// A token that did not verify, and why.
struct Rejection: Sendable, Error {
    var reason: String
    /// Set when only time stands in the way: from then on the token may verify.
    var validFrom: Double?

    init(_ reason: String, validFrom: Double? = nil) {
        self.reason = reason
        self.validFrom = validFrom
    }
}

/// Both caches, behind the verifier's one lock. They are separate so that rejected tokens,
/// which anyone can mint by the million, only ever evict each other.
struct Caches: ~Copyable {
    struct Remembered {
        var reason: String
        var until: Double
    }

    var valid: TokenCache<Accepted>
    var rejected: TokenCache<Remembered>

    /// Remembers a rejection for `ttl` seconds, and never past the moment the token may become
    /// valid; a `ttl` of 0 remembers nothing.
    mutating func reject(_ token: String, _ rejection: Rejection, now: Double, ttl: Double) {
        let until = min(now + ttl, rejection.validFrom ?? .infinity)
        guard until > now else { return }
        rejected.insert(Remembered(reason: rejection.reason, until: until), for: token)
    }
}
