import NIOConcurrencyHelpers
import NIOCore

/// Request collapsing (nginx's `proxy_cache_lock`, Varnish's waiting list): while one request
/// fetches a missing object, the others for the same key wait for it instead of going
/// upstream too, bounded by `cache.lock_timeout`.
final class CacheFlights: Sendable {
    /// How a wait ended.
    enum Outcome: Sendable {
        /// The fetch ended and stored the object: look again.
        case stored
        /// The fetch ended without storing (not storable, failed): go upstream, uncollapsed.
        case notStored
        /// `lock_timeout` passed first.
        case timedOut
    }

    private struct Waiter {
        let id: Int
        let notify: @Sendable (Outcome) -> Void
    }

    private struct State {
        var flights: [String: [Waiter]] = [:]
        var nextID = 0
    }

    private let state = NIOLockedValueBox(State())

    /// True when the caller is the first for `key` and must fetch (and later `land` it).
    func lead(_ key: String) -> Bool {
        state.withLockedValue { state in
            guard state.flights[key] == nil else { return false }
            state.flights[key] = []
            return true
        }
    }

    /// Waits for the flight of `key` on `eventLoop`: `done` runs there exactly once. False
    /// (and no call) when no flight is in progress any more.
    func wait(for key: String, on eventLoop: any EventLoop, timeout: TimeAmount,
              _ done: @escaping (Outcome) -> Void) -> Bool {
        let once = NIOLoopBound(OnceBox(done), eventLoop: eventLoop)
        let id = state.withLockedValue { state -> Int? in
            guard state.flights[key] != nil else { return nil }
            state.nextID += 1
            let id = state.nextID
            state.flights[key]!.append(Waiter(id: id) { outcome in
                eventLoop.execute { once.value.fire(outcome) }
            })
            return id
        }
        guard let id else { return false }
        eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            let removed = state.withLockedValue { state -> Bool in
                guard let index = state.flights[key]?.firstIndex(where: { $0.id == id }) else { return false }
                state.flights[key]!.remove(at: index)
                return true
            }
            if removed { once.value.fire(.timedOut) }
        }
        return true
    }

    /// The leader's fetch for `key` ended: every waiter hears how.
    func land(_ key: String, stored: Bool) {
        let waiters = state.withLockedValue { $0.flights.removeValue(forKey: key) } ?? []
        for waiter in waiters { waiter.notify(stored ? .stored : .notStored) }
    }

    var inFlight: Int { state.withLockedValue { $0.flights.count } }

    /// Loop-confined: the first of landing and timeout wins.
    private final class OnceBox {
        private var done: ((Outcome) -> Void)?
        init(_ done: @escaping (Outcome) -> Void) { self.done = done }
        func fire(_ outcome: Outcome) {
            let done = self.done
            self.done = nil
            done?(outcome)
        }
    }
}
