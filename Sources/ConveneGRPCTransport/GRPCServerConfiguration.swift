import ConveneRPC
import ConveneTransport
import ConveneWire

/// Limits of the gRPC listener. Defaults match the native listener's where both have one.
public struct GRPCServerConfiguration: Sendable {
    /// Calls one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
    public var maxConcurrentStreams = 100
    /// Largest request message, after decompression.
    public var maxMessageSize: UInt32 = 4 * 1024 * 1024
    /// Largest header block, as HPACK counts it (SETTINGS_MAX_HEADER_LIST_SIZE).
    public var maxHeaderListSize = 16 * 1024
    /// Each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE): what a call's request
    /// may hold before its handler takes it, unless the message being received is larger.
    public var streamWindow = 64 * 1024
    /// Room on one connection for request messages larger than `streamWindow`, each reserved
    /// whole when its prefix arrives, first come first served (at least one of the largest
    /// fits). A connection holds at most this plus a stream window per open call of requests.
    public var reservedMessageBytes = 8 * 1024 * 1024
    /// The connection's receive window. It bounds bytes in flight, not what is held: it is
    /// topped up as DATA arrives.
    public var connectionWindow = 4 * 1024 * 1024
    /// Response bytes a stream may have waiting for the socket before its handler's `send`
    /// suspends; and, for the whole connection, before the server stops reading new requests.
    public var streamOutboundAllowance = 256 * 1024
    public var connectionOutboundAllowance = 8 * 1024 * 1024
    /// Bound on inflated size / compressed size of one request message.
    public var maxDecompressionRatio = MessageCompression.defaultMaxRatio
    /// Connections accepted at once; beyond it a new one gets GOAWAY and is closed.
    /// Superseded by `limits` when that is set (a limiter shared with the native listener).
    public var maxConnections = 16_384
    /// Connections accepted at once from one client address.
    public var maxConnectionsPerAddress = 256
    /// Connections of the server, over all its listeners, in all and per client address.
    public var limits: ConnectionLimits?
    /// End a call whose request message has been incomplete this long (RESOURCE_EXHAUSTED).
    public var messageTimeout: Duration? = .seconds(30)
    /// End a call whose request is still open when nothing happened on it, either way, for
    /// this long (RESOURCE_EXHAUSTED).
    public var callIdleTimeout: Duration? = .seconds(120)
    /// Handler tasks a connection may have running at once, cancelled ones still finishing
    /// included; beyond it new calls are refused (RESOURCE_EXHAUSTED).
    public var maxHandlerTasks = 200
    /// More calls ended at a deadline under 0.1 s (`CancelPolicy.shortDeadline`) than this
    /// within `cutShortWindow` is a rapid reset without the resets: GOAWAY ENHANCE_YOUR_CALM,
    /// next to swift-nio-http2's limit on RST_STREAM (200 within 30 s).
    public var maxCallsCutShort = 200
    public var cutShortWindow: Duration = .seconds(30)
    /// WINDOW_UPDATEs a client may send: this many, plus `windowUpdatesPerDataFrame` for each
    /// DATA frame the server has written on the connection; past it, GOAWAY ENHANCE_YOUR_CALM
    /// (as on the native listener: credit is given back for DATA received).
    public var windowUpdateAllowance = 100
    public var windowUpdatesPerDataFrame = 10
    /// More DATA slivers (under 1 KiB inside a message, completing none: a message dribbled a
    /// byte per frame) than this within `sliverWindow` is a flood: GOAWAY ENHANCE_YOUR_CALM.
    public var maxSlivers = 1_000
    public var sliverWindow: Duration = .seconds(10)
    /// More PRIORITY frames and frames of unknown types (which swift-nio-http2 ignores) than
    /// this within `ignoredFrameWindow` is a flood: GOAWAY ENHANCE_YOUR_CALM.
    public var maxIgnoredFrames = 1_000
    public var ignoredFrameWindow: Duration = .seconds(10)
    /// The server-wide budget this listener's buffered bytes count against; nil: none.
    public var budget: MemoryBudget?
    /// A connection with no open call for this long is closed (GOAWAY, then close).
    public var idleTimeout: Duration? = .seconds(300)
    /// Keepalive PINGs after this much silence, and how long an answer may take.
    public var keepaliveInterval: Duration? = .seconds(60)
    public var keepaliveTimeout: Duration = .seconds(20)

    public init() {}
}
