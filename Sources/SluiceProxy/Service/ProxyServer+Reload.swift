import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import SluiceConfig

/// Live reload (SIGHUP, `POST /reload`, the file watch all end here). The new file is loaded
/// and validated completely, and what only a running process can check (JWT keys, Redis URLs,
/// binding new listeners) is done, before anything is swapped; a failure at any step leaves the
/// running configuration in force. Then, in order:
/// 1. the new generation is installed: new requests and connections run on it, requests in
///    flight finish on theirs;
/// 2. what the old generation alone used (Redis clients, lease timers) is retired;
/// 3. health checks restart for changed clusters only; unchanged clusters keep their pools,
///    health and checkers, since every event loop keys them by name and backend address;
/// 4. removed listeners stop accepting and drain; requests on removed routes get
///    `reload.drain_timeout`, then are ended; when settings that a connection takes at accept
///    changed (trusted proxies, access lists, header limits, client timeouts), every client
///    connection ends with its next response, with `Connection: close`.
extension ProxyServer {
    /// Reloads from `path`, default the file the running configuration came from. Reloads
    /// run one after another: one that arrives during another waits for it.
    public func reload(from path: String? = nil) async -> ReloadOutcome {
        let task = reloadGate.withLockedValue { gate -> Task<ReloadOutcome, Never>? in
            guard gate.phase == .running else { return nil }
            let previous = gate.last
            let next = Task {
                _ = await previous?.value
                // A drain may have begun while this one waited its turn.
                guard self.reloadGate.withLockedValue({ $0.phase }) == .running else { return ReloadOutcome.stopped }
                return await self.performReload(from: path)
            }
            gate.last = next
            return next
        }
        guard let task else {
            runtime.logger.warning("reload refused: the server is starting or stopping")
            return .stopped
        }
        let outcome = await task.value
        runtime.reloads.record(outcome)
        return outcome
    }

    private func performReload(from requested: String?) async -> ReloadOutcome {
        let current = runtime.generation
        let running = current.snapshot.config
        let path = requested ?? current.snapshot.source
        func failed(_ reason: String) -> ReloadOutcome {
            runtime.logger.error("reload failed: the running configuration stays in force", metadata: [
                "file": "\(path)", "error": "\(reason)", "generation": "\(current.snapshot.generation)",
            ])
            return ReloadOutcome(result: .failed, generation: current.snapshot.generation, error: reason, changes: [], warnings: [])
        }
        guard !path.hasPrefix("<") else { return failed("the configuration is embedded (\(path)): there is no file to reload") }

        var config: SluiceConfig
        do { config = try ConfigLoader.load(path: path) } catch { return failed("\(error)") }
        let warnings = Self.keepFixedSettings(of: running, in: &config)
        // A reload re-reads certificate files even when the config itself is unchanged (as
        // nginx's): that is how an operator applies a renewed certificate at once.
        for listener in listeners.withLockedValue({ $0 }) {
            listener.settings.withLockedValue { $0 }.tls?.reloadIfChanged(logger: runtime.logger)
        }
        guard config != running || path != current.snapshot.source else {
            runtime.logger.info("reload: configuration unchanged", metadata: ["file": "\(path)"])
            return ReloadOutcome(result: .unchanged, generation: current.snapshot.generation, error: nil, changes: [], warnings: warnings)
        }
        let snapshot = Snapshot(config: config, source: path, generation: current.snapshot.generation + 1)
        let next: ProxyGeneration
        do {
            next = try ProxyGeneration(snapshot: snapshot, previous: current, group: runtime.limitGroup, logger: runtime.logger,
                                       accessLogger: runtime.accessLogger)
        } catch {
            return failed("\(path): \(error)")
        }

        // Certificates are loaded before anything is bound or swapped: a bad one fails the reload.
        let settings: [ListenerSettings]
        do {
            settings = try config.listeners.enumerated().map { try ListenerSettings.make($1, index: $0) }
        } catch {
            next.limiter.retire(keeping: current.limiter, closeAfter: .zero, on: group.next())
            return failed("\(path): \(error)")
        }

        // New listeners are bound before the swap, so that a port in use fails the reload.
        let bound = listeners.withLockedValue { $0 }
        var inForce: [BoundListener] = []
        var added: [BoundListener] = []
        var resettled: [(BoundListener, ListenerSettings)] = []
        for (index, listener) in config.listeners.enumerated() {
            if let same = bound.first(where: { Self.isSameSocket($0.config, listener) }) {
                inForce.append(BoundListener(id: same.id, config: listener, channel: same.channel, quiescing: same.quiescing,
                                             settings: same.settings))
                resettled.append((same, settings[index]))
                continue
            }
            do {
                // Not accepting until the swap: a failure later in this loop must not leave
                // connections behind on a listener that is then closed.
                let made = try await bind(listener, settings: settings[index], accepting: false)
                added.append(made)
                inForce.append(made)
            } catch {
                for listener in added { try? await listener.channel.close() }
                next.limiter.retire(keeping: current.limiter, closeAfter: .zero, on: group.next())
                return failed("\(path): listeners[\(index)]: cannot listen on \(listener.address):\(listener.port): \(error)")
            }
        }

        runtime.install(next)
        runtime.cache.apply(next.snapshot.config.cache)
        listeners.withLockedValue { $0 = inForce }
        // Kept sockets take the new TLS, HSTS and redirect settings from their next accept.
        for (listener, fresh) in resettled {
            let old = listener.settings.withLockedValue { slot in
                defer { slot = fresh }
                return slot
            }
            old.tls?.stopWatching()
            fresh.tls?.startWatching(on: listener.channel.eventLoop, logger: runtime.logger)
        }
        for listener in added {
            do {
                try await listener.channel.setOption(.autoRead, value: true).get()
            } catch {
                runtime.logger.error("reload: a new listener could not start accepting", metadata: [
                    "listener": "\(listener.config.name)", "error": "\(error)",
                ])
            }
        }
        current.limiter.retire(keeping: next.limiter, closeAfter: .seconds(5), on: group.next())
        await restartHealthChecks(for: config.clusters)
        let kept = Set(inForce.map(\.id))
        retire(listeners: bound.filter { !kept.contains($0.id) }, drainTimeout: config.reload.drainTimeout)
        retireRoutes(from: running, to: config, generation: snapshot.generation)
        if Self.connectionSettingsChanged(from: running, to: config) {
            let peers = running.access != config.access || running.headers.trustedProxies != config.headers.trustedProxies
            cycleClientConnections(ReconnectRequested(connectionGuard: peers ? next.connectionGuard : nil,
                                                      trustedProxies: config.headers.trustedProxies))
        }

        let changes = Self.changes(from: running, to: config, listenersAdded: added.count, listenersRemoved: bound.count - kept.count)
        if let level = LiveLogLevel.apply(configured: config.log.level) {
            runtime.logger.notice("log level changed by reload", metadata: ["level": "\(level)"])
        }
        for warning in warnings { runtime.logger.warning("\(warning)") }
        runtime.logger.notice("configuration reloaded", metadata: [
            "file": "\(path)", "generation": "\(snapshot.generation)", "changes": "\(changes.joined(separator: " | "))",
        ])
        return ReloadOutcome(result: .applied, generation: snapshot.generation, error: nil, changes: changes, warnings: warnings)
    }

    /// A listener keeps its socket when address and port are the same (a fixed port cannot be
    /// bound twice); one on port 0 is known by its name.
    private static func isSameSocket(_ a: ListenerConfig, _ b: ListenerConfig) -> Bool {
        a.address == b.address && a.port == b.port && (a.port != 0 || a.name == b.name)
    }

    /// The admin listener's socket, the log setup and the number of event loops are fixed at
    /// start: the new file's values are noted and the running ones kept (the admin token does
    /// change live).
    private static func keepFixedSettings(of running: SluiceConfig, in config: inout SluiceConfig) -> [String] {
        var warnings: [String] = []
        let admin = running.admin
        if config.admin.enabled != admin.enabled || config.admin.address != admin.address || config.admin.port != admin.port {
            warnings.append("admin.enabled, admin.address and admin.port take effect on the next start; the admin listener is unchanged")
            config.admin.enabled = admin.enabled
            config.admin.address = admin.address
            config.admin.port = admin.port
        }
        if config.cache.disk != running.cache.disk || config.cache.purgeFanout != running.cache.purgeFanout {
            warnings.append("cache.disk and cache.purge_fanout take effect on the next start")
            config.cache.disk = running.cache.disk
            config.cache.purgeFanout = running.cache.purgeFanout
        }
        if config.user != running.user {
            warnings.append("user takes effect on the next start")
            config.user = running.user
        }
        if config.log.format != running.log.format {
            warnings.append("log.format takes effect on the next start (log.level changes now)")
            config.log.format = running.log.format
        }
        if running.admin.token != nil, config.admin.token == nil {
            warnings.append("admin.token removed: the admin API is open to anyone who can reach \(admin.address):\(admin.port)")
        }
        if config.eventLoops != running.eventLoops {
            warnings.append("event_loops takes effect on the next start; still \(running.eventLoops)")
            config.eventLoops = running.eventLoops
        }
        return warnings
    }

    /// Checkers of removed or changed clusters stop; changed and new clusters get fresh ones.
    /// A backend both configurations list keeps its shared health (HealthRegistry).
    private func restartHealthChecks(for clusters: [ClusterConfig]) async {
        for cluster in clusters { _ = runtime.health.health(for: cluster) }
        runtime.health.retain(Set(clusters.map(\.name)))
        let stale = checkers.withLockedValue { checkers in
            let stale = checkers.filter { name, bound in clusters.first { $0.name == name } != bound.config }
            for name in stale.keys { checkers[name] = nil }
            return stale
        }
        for bound in stale.values { try? await bound.eventLoop.submit { bound.checker.stop() }.get() }
        let running = checkers.withLockedValue { Set($0.keys) }
        for cluster in clusters where !running.contains(cluster.name) {
            do {
                try await startHealthCheck(cluster)
            } catch {
                runtime.logger.error("reload: health checks did not start", metadata: ["cluster": "\(cluster.name)", "error": "\(error)"])
            }
        }
    }

    /// Removed listeners stop accepting; their idle connections close, busy ones finish their
    /// request, and whatever is still open after `drainTimeout` is ended.
    private func retire(listeners retired: [BoundListener], drainTimeout: Duration) {
        guard !retired.isEmpty else { return }
        for listener in retired {
            runtime.logger.notice("listener removed by reload: draining", metadata: ["listener": "\(listener.config.name)"])
            listener.settings.withLockedValue { $0 }.tls?.stopWatching()
            listener.quiescing.initiateShutdown(promise: nil)
        }
        let ids = Set(retired.map(\.id))
        let runtime = self.runtime
        let loops = Array(group.makeIterator())
        group.next().scheduleTask(in: TimeAmount(drainTimeout)) {
            for loop in loops { loop.execute { runtime.loopState(for: loop).endClientConnections(listeners: ids) } }
        }
    }

    /// Routes the reload removed: their requests in flight get a bounded drain. A changed
    /// route's requests finish on the configuration they started on, however long they take.
    private func retireRoutes(from old: SluiceConfig, to new: SluiceConfig, generation: Int) {
        let retired = Set(old.routes.map(\.name)).subtracting(new.routes.map(\.name))
        guard !retired.isEmpty else { return }
        let event = RoutesRetired(routes: retired, generation: generation, drainTimeout: TimeAmount(new.reload.drainTimeout))
        let runtime = self.runtime
        for loop in group.makeIterator() { loop.execute { runtime.loopState(for: loop).announce(event) } }
    }

    /// What a connection takes when it is accepted (ProxyServer.initialize, ProxyHandler).
    private static func connectionSettingsChanged(from old: SluiceConfig, to new: SluiceConfig) -> Bool {
        old.headers.trustedProxies != new.headers.trustedProxies || old.access != new.access || old.limits != new.limits
            || old.timeouts != new.timeouts
    }

    /// Every client connection ends with its next response (`Connection: close`), so that the
    /// client's next connection is accepted on the new settings.
    private func cycleClientConnections(_ event: ReconnectRequested) {
        let runtime = self.runtime
        for loop in group.makeIterator() { loop.execute { runtime.loopState(for: loop).askClientsToReconnect(event) } }
    }

    /// One line per section that changed, naming what was added, removed and changed.
    static func changes(from old: SluiceConfig, to new: SluiceConfig, listenersAdded: Int, listenersRemoved: Int) -> [String] {
        func diff<T: Equatable>(_ section: String, _ before: [T], _ after: [T], _ name: (T) -> String) -> String? {
            let added = after.filter { item in !before.contains { name($0) == name(item) } }.map(name)
            let removed = before.filter { item in !after.contains { name($0) == name(item) } }.map(name)
            let changed = after.filter { item in before.contains { name($0) == name(item) && $0 != item } }.map(name)
            var parts: [String] = []
            if !added.isEmpty { parts.append("added " + added.joined(separator: ", ")) }
            if !removed.isEmpty { parts.append("removed " + removed.joined(separator: ", ")) }
            if !changed.isEmpty { parts.append("changed " + changed.joined(separator: ", ")) }
            return parts.isEmpty ? nil : "\(section): " + parts.joined(separator: "; ")
        }
        var lines = [
            diff("routes", old.routes, new.routes) { $0.name },
            diff("clusters", old.clusters, new.clusters) { $0.name },
            diff("rate_limits", old.rateLimits, new.rateLimits) { $0.name },
        ].compactMap { $0 }
        if listenersAdded + listenersRemoved > 0 {
            lines.append("listeners: \(listenersAdded) bound, \(listenersRemoved) draining")
        }
        let sections: [(String, Bool)] = [
            ("limits", old.limits != new.limits), ("timeouts", old.timeouts != new.timeouts), ("headers", old.headers != new.headers),
            ("access_log", old.accessLog != new.accessLog), ("jwt", old.jwt != new.jwt), ("regions", old.regions != new.regions),
            ("access", old.access != new.access), ("admin.token", old.admin.token != new.admin.token), ("log.level", old.log.level != new.log.level),
            ("reload", old.reload != new.reload), ("cache", old.cache != new.cache),
        ]
        let other = sections.filter(\.1).map(\.0)
        if !other.isEmpty { lines.append("changed: " + other.joined(separator: ", ")) }
        return lines
    }
}
