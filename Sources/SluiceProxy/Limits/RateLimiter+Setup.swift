import Logging
import NIOConcurrencyHelpers
import NIOCore
import SluiceConfig
import SluiceLimits
import SluiceRedis

extension RateLimiter {
    /// The policies of `config`, with one Redis client per distinct store URL. Throws what
    /// the loader cannot check: a JWT key's PEM or secret, an unusable Redis URL.
    ///
    /// With `previous` (a reload), a policy whose configuration did not change is kept as it
    /// is, with its counters, local buckets and leases, and so is a Redis client whose URL is
    /// still named: a reload neither forgives nor double-charges anyone.
    static func make(config: SluiceConfig, group: any EventLoopGroup, logger: Logger,
                     previous: RateLimiter? = nil) throws -> RateLimiter
    {
        var clients: [String: RedisLimitStore] = [:]
        var policies: [String: PolicyRuntime] = [:]
        // What was started before a later entry failed must not outlive the failure; what the
        // previous limiter owns stays with it.
        func abandon(_ error: any Error) -> any Error {
            for runtime in policies.values where previous?.policies[runtime.config.name] !== runtime { runtime.global?.stop() }
            for (url, store) in clients where previous?.stores[url] !== store { _ = store.client.shutdown() }
            return error
        }
        for (index, entry) in config.rateLimits.enumerated() {
            if let kept = previous?.policies[entry.name], kept.config == entry {
                policies[entry.name] = kept
                if case .redis(let url) = entry.store, let store = previous?.stores[url] { clients[url] = store }
                continue
            }
            let policy: LimitPolicy
            do {
                policy = try LimitPolicy(name: entry.name, algorithm: entry.algorithm, tiers: entry.tiers)
            } catch {
                throw abandon(LimitSetupError(message: "rate_limits[\(index)].tiers: \(error)"))
            }
            var global: GlobalLimit?
            let counters = PolicyCounters()
            if case .redis(let url) = entry.store {
                let store: RedisLimitStore
                if let existing = clients[url] ?? previous?.stores[url] {
                    store = existing
                } else {
                    do {
                        store = RedisLimitStore(client: try RedisClient(url: url, group: group, logger: logger))
                    } catch {
                        // The client's message may quote the URL's user info: say only what is safe.
                        let safe = "\(error)".replacing(String(url.dropFirst("redis://".count).prefix { $0 != "@" }), with: "[redacted]")
                        throw abandon(LimitSetupError(message: "rate_limits[\(index)].store: \(RedisURL.redacted(url)): " + (url.contains("@") ? safe : "\(error)")))
                    }
                }
                clients[url] = store
                global = GlobalLimit(config: entry, policy: policy, store: store, counters: counters, eventLoop: group.next(),
                                     logger: logger)
            }
            policies[entry.name] = PolicyRuntime(config: entry, policy: policy, global: global, counters: counters)
        }
        let regions = config.regions.header != nil || !config.regions.table.isEmpty ? RegionIndex(config.regions) : nil
        let claims: ClaimSource?
        do { claims = try ClaimSource(config: config) } catch { throw abandon(error) }
        let limiter = RateLimiter(policies: policies, routes: config.routes, regions: regions, claims: claims, logger: logger,
                                  stores: clients)
        let stores = policies.values.compactMap(\.local)
        if !stores.isEmpty {
            let task = group.next().scheduleRepeatedTask(initialDelay: .seconds(10), delay: .seconds(10)) { _ in
                let now = NIODeadline.now().uptimeNanoseconds
                for store in stores { _ = store.sweep(now: now) }
            }
            limiter.sweeper.withLockedValue { $0 = task }
        }
        return limiter
    }

    /// Gives every held lease back, then closes the Redis connections.
    func shutdown(on eventLoop: any EventLoop) async {
        sweeper.withLockedValue { $0?.cancel() }
        for runtime in policies.values { try? await runtime.global?.retire(on: eventLoop).get() }
        for store in stores.values { try? await store.client.shutdown().get() }
    }

    /// After a reload: stops what `successor` did not keep. Requests admitted a moment ago may
    /// still be waiting on a Redis client the new configuration dropped, so those close later.
    func retire(keeping successor: RateLimiter, closeAfter delay: TimeAmount, on eventLoop: any EventLoop) {
        sweeper.withLockedValue { $0?.cancel() }
        var returns: [EventLoopFuture<Void>] = []
        for (name, runtime) in policies where successor.policies[name] !== runtime {
            if let global = runtime.global { returns.append(global.retire(on: eventLoop)) }
        }
        let dropped = stores.filter { successor.stores[$0.key] !== $0.value }.map(\.value.client)
        guard !dropped.isEmpty else { return }
        // Closed once the leases are back and the moment for late admissions has passed.
        EventLoopFuture.andAllComplete(returns, on: eventLoop).whenComplete { _ in
            eventLoop.scheduleTask(in: delay) {
                for client in dropped { _ = client.shutdown() }
            }
        }
    }
}
