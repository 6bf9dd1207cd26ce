import Atomics
import NIOCore
import NIOHTTP1
import SluiceBalancing
import SluiceConfig

/// One client request on its way through the proxy, from its head to the last byte of the
/// response. Owned by the connection's `ProxyHandler`; lives on its event loop.
final class Exchange {
    let id: Int
    let started: NIODeadline
    let method: HTTPMethod
    let uri: String
    let version: HTTPVersion
    let requestID: String
    let route: ResolvedRoute
    /// The configuration the request started on; a reload does not change it underneath.
    let generation: ProxyGeneration
    let cluster: ClusterLoopState
    /// The backend of the current try.
    var backendIndex: Int
    /// The request's affinity key for the hash strategies, kept for retries.
    let hashKey: UInt64?
    /// Tries started so far, and the backends earlier tries failed on (filled only by a
    /// retry, so that an ordinary request allocates nothing for it).
    private(set) var tries = 0
    private(set) var tried: [Int] = []
    var upstreamHead: HTTPRequestHead
    let framing: BodyFraming
    let headerPolicy: HeaderPolicy
    /// The request body as sent so far (its parts and end), for a retry on another backend;
    /// nil once it outgrew `retries.replay_buffer`. A request without a body keeps nothing:
    /// its end is all a retry resends.
    private(set) var replay: [HTTPClientRequestPart]? = []
    private var replayBytes = 0
    private let replayLimit: Int
    /// The route's timers, converted once rather than per body chunk; `headerTimeout` is the
    /// per-try timeout when one is set.
    let headerTimeout: TimeAmount
    let headerLimit: Duration
    let idleTimeout: TimeAmount
    /// `client_send`: how long the client may keep its socket full.
    let sendTimeout: TimeAmount
    /// Whether the client connection may carry another request after this one.
    var clientKeepAlive: Bool

    var connection: UpstreamConnection?
    /// Request parts that arrived before the upstream connection did.
    var pending: [HTTPClientRequestPart] = []
    var upstreamNeedsFlush = false
    var countedInFlight = false
    /// Whether the current upstream connection came from the pool having served before.
    var onReusedConnection = false
    var retriedOnFreshConnection = false
    /// The client's socket is full and the backend's reads are paused for it.
    var waitingOnClient = false

    var requestEnded = false
    var responseStarted = false
    var upstreamReusable = false
    var status = 0
    var bytesIn = 0
    var bytesOut = 0
    var upstreamStarted: NIODeadline?
    var upstreamHeadNanos: UInt64?
    /// RateLimit-Policy and RateLimit for the response, from the route's rate limits.
    var limitFields: [(String, String)] = []
    /// The protocol the client asked to switch to (`websocket`); nil for a plain request.
    var upgrade: String?
    /// The backend answered 101: the tunnel starts at the end of that response.
    var switchedProtocols = false
    /// Runs the route's `timeouts.stream` when it has one.
    var streamTimer: Scheduled<Void>?
    /// The W3C trace this request belongs to, for the access log.
    var traceID = ""
    /// What the cache phase found and wants of the response, on a cached route.
    var cache: CacheRequest?
    /// A HEAD asked upstream as GET (to fill the cache): the body is not the client's.
    var suppressClientBody = false
    /// For the access log: hit, miss, stale-if-error, revalidated.
    var cacheResult: String?

    init(
        id: Int,
        head: HTTPRequestHead,
        requestID: String,
        route: ResolvedRoute,
        cluster: ClusterLoopState,
        backendIndex: Int,
        hashKey: UInt64?,
        upstreamHead: HTTPRequestHead,
        framing: BodyFraming,
        headerPolicy: HeaderPolicy,
        clientSend: Duration,
        clientKeepAlive: Bool,
        generation: ProxyGeneration
    ) {
        self.id = id
        self.generation = generation
        started = .now()
        method = head.method
        uri = head.uri
        version = head.version
        self.requestID = requestID
        self.route = route
        self.cluster = cluster
        self.backendIndex = backendIndex
        self.hashKey = hashKey
        self.upstreamHead = upstreamHead
        self.framing = framing
        self.headerPolicy = headerPolicy
        let perTry = cluster.config.retries.perTryTimeout
        headerLimit = perTry > .zero ? min(perTry, route.upstreamHeader) : route.upstreamHeader
        headerTimeout = TimeAmount(headerLimit)
        replayLimit = cluster.config.retries.replayBuffer
        idleTimeout = TimeAmount(route.upstreamIdle)
        sendTimeout = TimeAmount(clientSend)
        self.clientKeepAlive = clientKeepAlive
    }

    var pool: BackendPool { cluster.pools[backendIndex] }
    var backend: BackendHealth { cluster.health.backends[backendIndex] }
    var backendAddress: String { cluster.addresses[backendIndex] }

    /// Idempotent (RFC 9110 §9.2.2): sending it twice has the effect of sending it once.
    var isIdempotent: Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: true
        default: false
        }
    }

    /// A request that may be sent again as it is: idempotent, and all of it that was sent is
    /// still at hand.
    var isReplayable: Bool { isIdempotent && replay != nil }

    /// Starts a try on `backendIndex`: takes its in-flight slot; returns the try's number.
    func beginTry() -> Int {
        tries += 1
        backend.inFlight.wrappingIncrement(ordering: .relaxed)
        countedInFlight = true
        upstreamStarted = nil
        return tries
    }

    /// Keeps a part that went upstream, while the body fits the replay buffer.
    func keepForReplay(_ part: HTTPClientRequestPart) {
        guard framing != .none, replay != nil else { return }
        if case .body(.byteBuffer(let buffer)) = part {
            replayBytes += buffer.readableBytes
            if replayBytes > replayLimit {
                replay = nil
                return
            }
        }
        replay?.append(part)
    }

    /// Moves what was sent back into `pending`, for the next try to send first.
    func rewindForRetry(to index: Int) {
        backendIndex = index
        cache?.answerAfterEnd = nil
        if framing != .none {
            pending = (replay ?? []) + pending
        } else if requestEnded, pending.isEmpty {
            pending = [.end(nil)]  // the end went out with the failed try
        }
        replay = []
        replayBytes = 0
        onReusedConnection = false
    }

    // MARK: hedging

    /// The second try while it races the first; `hedgeTimer` until it starts.
    private(set) var hedge: HedgeTry?
    var hedgeTimer: Scheduled<Void>?
    private var hedged = false
    /// The first try failed while the hedge was out: the hedge is all that is left.
    private(set) var firstTryLost = false

    /// Idempotent, without a body, fully sent, not hedged yet.
    /// Never for an upgrade: two tries would open two tunnels.
    var mayHedge: Bool { !hedged && hedgeTimer == nil && isIdempotent && framing == .none && requestEnded && upgrade == nil }

    func startHedge(_ try: HedgeTry) {
        hedged = true
        hedge = `try`
    }

    /// The hedge stops racing: it won, failed, or lost.
    func endHedge() {
        hedgeTimer?.cancel()
        hedgeTimer = nil
        hedge = nil
    }

    /// Stops a pending hedge timer and cancels a running hedge (the first try answered, or the
    /// exchange ended).
    func cancelHedge() {
        let running = hedge
        endHedge()
        running?.cancel()
    }

    /// The first try failed while a hedge is out: wait for the hedge rather than retry.
    func loseFirstTry() { firstTryLost = true }

    /// The hedge won: it becomes the current try, with its connection and in-flight slot.
    func adoptHedge(_ hedge: HedgeTry, connection: UpstreamConnection) {
        backendIndex = hedge.backendIndex
        self.connection = connection
        countedInFlight = true
        upstreamStarted = hedge.started
        onReusedConnection = false
        firstTryLost = false
    }

    /// The backend the current try failed on is not asked again while another can serve.
    func markTried() { tried.append(backendIndex) }

    /// Time from the current try's request to `now`: what the balancer and outlier detection learn.
    func tryLatency(at now: NIODeadline) -> UInt64 {
        upstreamStarted.map { UInt64(max(0, (now - $0).nanoseconds)) } ?? 0
    }

    /// Gives back the backend's in-flight slot exactly once, however the try ends.
    func releaseInFlight() {
        guard countedInFlight else { return }
        countedInFlight = false
        backend.inFlight.wrappingDecrement(ordering: .relaxed)
    }
}
