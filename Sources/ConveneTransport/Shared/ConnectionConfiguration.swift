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
    /// Connections accepted at once (server); beyond it a new one gets GOAWAY OVERLOADED.
    public var maxConnections = 16_384
    /// Bound on inflated size / compressed size of one message.
    public var maxDecompressionRatio = MessageCompression.defaultMaxRatio

    public init() {}
}

extension Duration {
    /// Whole nanoseconds, saturating at `Int64.min`/`Int64.max` instead of trapping.
    var nanoseconds: Int64 { saturatingNanoseconds }
}
