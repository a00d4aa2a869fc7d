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
    public var idleTimeout: Duration? = nil
    /// Bound on inflated size / compressed size of one message.
    public var maxDecompressionRatio = MessageCompression.defaultMaxRatio

    public init() {}
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
