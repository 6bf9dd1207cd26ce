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
    let cluster: ClusterLoopState
    let backendIndex: Int
    let upstreamHead: HTTPRequestHead
    let framing: BodyFraming
    let headerPolicy: HeaderPolicy
    /// The route's timers, converted once rather than per body chunk.
    let headerTimeout: TimeAmount
    let idleTimeout: TimeAmount
    /// `client_send`: how long the client may keep its socket full.
    let sendTimeout: TimeAmount
    /// Whether the client connection may carry another request after this one.
    var clientKeepAlive: Bool

    var connection: UpstreamConnection?
    /// Request parts that arrived before the upstream connection did.
    var pending: [HTTPClientRequestPart] = []
    var upstreamNeedsFlush = false
    var countedInFlight = true
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

    init(
        id: Int,
        head: HTTPRequestHead,
        requestID: String,
        route: ResolvedRoute,
        cluster: ClusterLoopState,
        backendIndex: Int,
        upstreamHead: HTTPRequestHead,
        framing: BodyFraming,
        headerPolicy: HeaderPolicy,
        clientSend: Duration,
        clientKeepAlive: Bool
    ) {
        self.id = id
        started = .now()
        method = head.method
        uri = head.uri
        version = head.version
        self.requestID = requestID
        self.route = route
        self.cluster = cluster
        self.backendIndex = backendIndex
        self.upstreamHead = upstreamHead
        self.framing = framing
        self.headerPolicy = headerPolicy
        headerTimeout = TimeAmount(route.upstreamHeader)
        idleTimeout = TimeAmount(route.upstreamIdle)
        sendTimeout = TimeAmount(clientSend)
        self.clientKeepAlive = clientKeepAlive
    }

    var pool: BackendPool { cluster.pools[backendIndex] }

    /// A request that may be sent again as it is: no body, and a method RFC 9110 calls idempotent.
    var isReplayable: Bool {
        guard framing == .none else { return false }
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: return true
        default: return false
        }
    }
    var backendAddress: String { cluster.addresses[backendIndex] }

    /// Gives back the backend's in-flight slot exactly once, however the exchange ends.
    func releaseInFlight() {
        guard countedInFlight else { return }
        countedInFlight = false
        cluster.views[backendIndex].inFlight -= 1
    }
}
