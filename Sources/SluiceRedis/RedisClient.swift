import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SluiceBalancing

/// A small pool of `RedisConnection`s (`poolSize`, default 2), each opened on first use on
/// an event loop of `group`. For the proxy's data path give each event loop its own client
/// (pass the loop as `group`): its futures then complete on that loop.
///
/// Every command has one deadline (`commandTimeout`, default 50 ms) that covers waiting for a
/// connection as well as the reply. A slot whose connect failed does not try again until its
/// backoff has passed (`RedisBackoff`: 50 ms doubling to 2 s, with jitter); until then its
/// commands fail at once with `.unavailable`, so a dead server costs no waiting and builds no
/// queue. A connection that closes (server gone, or a command timed out) is replaced on the
/// next command without backoff; only failed connects back off.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let slots: [Slot]
    private let cursor = NIOLockedValueBox<UInt>(0)
    private let random: NIOLockedValueBox<SplitMix64>
    private let logger: Logger

    /// - Parameter randomSeed: seeds the backoff jitter (tests make it repeatable).
    public init(
        configuration: RedisConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        randomSeed: UInt64 = UInt64.random(in: 0...UInt64.max), logger: Logger = Logger(label: "sluice.redis")
    ) {
        self.configuration = configuration
        slots = (0..<max(1, configuration.poolSize)).map { _ in Slot(eventLoop: group.next()) }
        random = NIOLockedValueBox(SplitMix64(seed: randomSeed))
        self.logger = logger
    }

    public convenience init(url: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "sluice.redis")) throws {
        self.init(configuration: try RedisConfiguration(url: url), group: group, logger: logger)
    }

    deinit {
        // Channels keep themselves alive while open: without this they would outlive us.
        for slot in slots {
            slot.state.withLockedValue { state in
                if case .connected(let connection) = state { connection.channel.close(promise: nil) }
                state = .shutDown
            }
        }
    }

    /// A loop of the pool, for futures that fail before anything is sent.
    var anyEventLoop: any EventLoop { slots[0].eventLoop }

    /// Sends `command` on the next usable connection; fails with `RedisError`.
    public func send(_ command: RedisCommand, timeout: TimeAmount? = nil) -> EventLoopFuture<RESPValue> {
        let deadline = NIODeadline.now() + (timeout ?? configuration.commandTimeout)
        let slot = pickSlot()
        switch acquire(slot) {
        case .ready(let connection):
            return connection.send(command, deadline: deadline)
        case .failed(let error):
            return slot.eventLoop.makeFailedFuture(error)
        case .wait(let connecting):
            let promise = slot.eventLoop.makePromise(of: RESPValue.self)
            let timer = slot.eventLoop.scheduleTask(deadline: deadline) { promise.fail(RedisError.timeout) }
            connecting.whenComplete { result in
                timer.cancel()
                switch result {
                case .success(let connection): connection.send(command, deadline: deadline).cascade(to: promise)
                case .failure(let error): promise.fail(error)
                }
            }
            return promise.futureResult
        }
    }

    /// `send`, awaited.
    public func execute(_ command: RedisCommand, timeout: TimeAmount? = nil) async throws -> RESPValue {
        try await send(command, timeout: timeout).get()
    }

    /// Closes every connection; later commands fail with `.shutdown`.
    public func shutdown() -> EventLoopFuture<Void> {
        let open = slots.compactMap { slot in
            slot.state.withLockedValue { state -> RedisConnection? in
                defer { state = .shutDown }
                if case .connected(let connection) = state { return connection }
                return nil
            }
        }
        return EventLoopFuture.andAllComplete(open.map { $0.close() }, on: slots[0].eventLoop)
    }

    /// The round-robin slot, skipping slots that are failing while another is not.
    private func pickSlot() -> Slot {
        let start = Int(cursor.withLockedValue { value in
            defer { value &+= 1 }
            return value % UInt(slots.count)
        })
        let now = NIODeadline.now()
        for offset in 0..<slots.count {
            let slot = slots[(start + offset) % slots.count]
            if !slot.isFailing(at: now) { return slot }
        }
        return slots[start]
    }

    private enum Acquired {
        case ready(RedisConnection)
        case wait(EventLoopFuture<RedisConnection>)
        case failed(RedisError)
    }

    private func acquire(_ slot: Slot) -> Acquired {
        // A connect is started outside the lock: its callbacks take the lock again.
        let (acquired, start): (Acquired, (EventLoopPromise<RedisConnection>, Int)?) = slot.state.withLockedValue { state in
            func connecting(failures: Int) -> (Acquired, (EventLoopPromise<RedisConnection>, Int)?) {
                let promise = slot.eventLoop.makePromise(of: RedisConnection.self)
                state = .connecting(promise.futureResult, failures: failures)
                return (.wait(promise.futureResult), (promise, failures))
            }
            switch state {
            case .connected(let connection) where connection.isActive:
                return (.ready(connection), nil)
            case .connected:
                return connecting(failures: 0)
            case .connecting(_, let failures) where failures > 0:
                // A retry after failed connects: only the command that started it waits.
                return (.failed(.unavailable("reconnecting after \(failures) failed connects")), nil)
            case .connecting(let future, _):
                return (.wait(future), nil)
            case .idle(let failures):
                return connecting(failures: failures)
            case .backingOff(let until, let failures, let reason):
                guard until <= .now() else { return (.failed(.unavailable(reason)), nil) }
                return connecting(failures: failures)
            case .shutDown:
                return (.failed(.shutdown), nil)
            }
        }
        if let (promise, failures) = start { connect(slot, failures: failures, promise: promise) }
        return acquired
    }

    private func connect(_ slot: Slot, failures: Int, promise: EventLoopPromise<RedisConnection>) {
        RedisConnection.connect(configuration, on: slot.eventLoop).whenComplete { result in
            switch result {
            case .success(let connection):
                let kept = slot.state.withLockedValue { state -> Bool in
                    guard case .connecting = state else { return false }
                    state = .connected(connection)
                    return true
                }
                guard kept else {
                    connection.close().whenComplete { _ in promise.fail(RedisError.shutdown) }
                    return
                }
                if failures > 0 { self.logger.info("redis reconnected", metadata: ["failed_connects": "\(failures)"]) }
                connection.closeFuture.whenComplete { _ in
                    slot.state.withLockedValue { state in
                        if case .connected(let current) = state, current === connection { state = .idle(failures: 0) }
                    }
                }
                promise.succeed(connection)
            case .failure(let error):
                let failed = failures + 1
                let delay = self.configuration.backoff.delay(afterFailures: failed, random: self.nextRandom())
                let reason = if case RedisError.connectFailed(let reason) = error { reason } else { "\(error)" }
                slot.state.withLockedValue { state in
                    guard case .connecting = state else { return }
                    state = .backingOff(until: .now() + delay, failures: failed, reason: reason)
                }
                if failed == 1 {
                    self.logger.warning("redis connect failed", metadata: ["error": "\(reason)"])
                } else {
                    self.logger.debug("redis connect failed", metadata: ["error": "\(reason)", "failed_connects": "\(failed)"])
                }
                promise.fail(error)
            }
        }
    }

    private func nextRandom() -> Double {
        random.withLockedValue { Double($0.next() >> 11) * 0x1.0p-53 }
    }
}

/// One pooled connection's life: opened on demand, replaced when it closes, and held back
/// for its backoff after failed connects.
private final class Slot: Sendable {
    enum State {
        case idle(failures: Int)
        case connecting(EventLoopFuture<RedisConnection>, failures: Int)
        case connected(RedisConnection)
        case backingOff(until: NIODeadline, failures: Int, reason: String)
        case shutDown
    }

    let eventLoop: any EventLoop
    let state = NIOLockedValueBox(State.idle(failures: 0))

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    /// Backing off, or trying again after failed connects.
    func isFailing(at now: NIODeadline) -> Bool {
        state.withLockedValue { state in
            switch state {
            case .backingOff(let until, _, _): until > now
            case .connecting(_, let failures): failures > 0
            case .idle, .connected, .shutDown: false
            }
        }
    }
}
