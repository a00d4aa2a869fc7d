import ConveneRPC
import ConveneWire

/// Limits and timers of one side of a connection.
public struct ConnectionConfiguration: Sendable {
    /// What this side announces in SETTINGS: limits on what it receives.
    public var settings = Settings()
    /// Close a connection that has not completed the preface and SETTINGS exchange in time.
    public var handshakeTimeout: Duration = .seconds(10)
    /// Ping the peer after this long without receiving anything; nil disables keepalive.
    public var keepaliveInterval: Duration? = .seconds(60)
    /// Close the connection when a keepalive ping is not answered within this time.
    public var keepaliveTimeout: Duration = .seconds(20)
    /// Close a connection that has had no open call for this long; nil disables it.
    public var idleTimeout: Duration? = .seconds(300)
    /// Close a connection that leaves a frame incomplete for this long (a peer dribbling
    /// bytes), counted from the first byte of the frame still incomplete.
    public var frameTimeout: Duration = .seconds(30)
    /// A PING arriving less than this after the previous one is a strike; one arriving this
    /// long or longer after it clears the strikes (PROTOCOL.md §2.7).
    public var minPingInterval: Duration = .seconds(1)
    /// The PING that makes the strikes exceed this is refused with GOAWAY ENHANCE_YOUR_CALM.
    public var maxPingStrikes = 5
    /// More CANCELs of open calls than this within `cancelWindow` is a flood: GOAWAY
    /// ENHANCE_YOUR_CALM (PROTOCOL.md §2.6), as swift-nio-http2 limits RST_STREAM.
    public var maxCancels = 200
    public var cancelWindow: Duration = .seconds(30)
    /// More frames that change nothing than this within `noEffectWindow` is a flood: GOAWAY
    /// ENHANCE_YOUR_CALM (PROTOCOL.md §4). Such frames need no answer, so nothing else slows
    /// a client sending them by the million: PING or SETTINGS acknowledgements not asked for,
    /// DATA, WINDOW_UPDATE or CANCEL for calls that have ended, CALLs after GOAWAY, empty DATA.
    public var maxNoEffectFrames = 1_000
    public var noEffectWindow: Duration = .seconds(10)
    /// WINDOW_UPDATEs a client may send: this many, plus `windowUpdatesPerDataFrame` for each
    /// DATA frame the server has sent on the connection (credit is given back for DATA; a
    /// client granting credit nothing waits for, by the million, is a flood: GOAWAY
    /// ENHANCE_YOUR_CALM, PROTOCOL.md §4).
    public var windowUpdateAllowance = 100
    public var windowUpdatesPerDataFrame = 10
    /// Connections accepted at once (server); beyond it a new one gets GOAWAY OVERLOADED.
    /// Superseded by `limits` when that is set (a limiter shared with the gRPC listener).
    public var maxConnections = 16_384
    /// Connections accepted at once from one client address (server).
    public var maxConnectionsPerAddress = 256
    /// Connections of the server, over all its listeners, in all and per client address.
    public var limits: ConnectionLimits?
    /// End a call whose message has been incomplete this long (RESOURCE_EXHAUSTED), counted
    /// from the first byte of the message; the bytes it held are freed. nil disables it.
    public var messageTimeout: Duration? = .seconds(30)
    /// End a call that is open (the client may still send) when nothing happened on it, in
    /// either direction, for this long (RESOURCE_EXHAUSTED); nil disables it.
    public var callIdleTimeout: Duration? = .seconds(120)
    /// Response bytes a connection may leave unread (in the socket's queue) before the
    /// server stops reading from it; and response bytes waiting for flow-control credit
    /// beyond which its new calls are refused (RESOURCE_EXHAUSTED).
    public var maxOutboundBuffered = 4 * 1024 * 1024
    /// Handler tasks a connection may have running at once, cancelled ones still finishing
    /// included; beyond it new asynchronous calls are refused (RESOURCE_EXHAUSTED).
    public var maxHandlerTasks = 200
    /// The server-wide budget this connection's buffered bytes count against; nil: none.
    public var budget: MemoryBudget?
    /// Bound on inflated size / compressed size of one message.
    public var maxDecompressionRatio = MessageCompression.defaultMaxRatio

    public init() {}
}

extension Duration {
    /// Whole nanoseconds, saturating at `Int64.min`/`Int64.max` instead of trapping.
    var nanoseconds: Int64 { saturatingNanoseconds }
}
