import ConveneRPC
import ConveneTransport
import Logging
import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL

/// Serves every method in a router as standard gRPC over HTTP/2 (plaintext "h2c", or TLS
/// with ALPN `h2`), beside the native listener. The router is shared, so methods added or
/// removed at run time (plugins) are served here too, under the same rules.
public final class GRPCServerTransport: Sendable {
    public let router: Router
    public let configuration: GRPCServerConfiguration
    public let group: any EventLoopGroup
    let tls: NIOSSLContext?
    let logger: Logger
    let observer: (any ConnectionObserver)?
    /// The connection limits, shared with the native listener when the configuration names them.
    public let limits: ConnectionLimits
    private let state = Locked(State())

    private struct State {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    /// `tls` must offer ALPN `h2` (see `ServerTLS.makeContext(applicationProtocols:)`).
    public init(router: Router, configuration: GRPCServerConfiguration = GRPCServerConfiguration(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, tls: NIOSSLContext? = nil,
                logger: Logger, observer: (any ConnectionObserver)? = nil) {
        self.observer = observer
        self.router = router
        self.configuration = configuration
        self.group = group
        self.tls = tls
        self.logger = logger
        self.limits = configuration.limits ?? ConnectionLimits(maxConnections: configuration.maxConnections,
                                                                maxPerAddress: configuration.maxConnectionsPerAddress)
    }

    /// Starts listening; returns the bound address (port 0 picks a free port).
    @discardableResult
    public func bind(host: String, port: Int) async throws -> SocketAddress {
        let limits = self.limits
        let logger = self.logger
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptGuard(limits: limits, logger: logger, listener: "gRPC"))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [weak self] channel in
                guard let self else { return channel.eventLoop.makeSucceededVoidFuture() }
                let refusal = self.admit(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try self.configure(channel, refusal: refusal)
                }
            }
            .bind(host: host, port: port).get()
        state.withLock { $0.listener = channel }
        guard let address = channel.localAddress else { throw RPCError(.internal, "gRPC listener has no address") }
        return address
    }

    private func configure(_ channel: any Channel, refusal: String?) throws {
        let pipeline = channel.pipeline.syncOperations
        if let observer { try pipeline.addHandler(ByteCounter(transport: .grpc, observer: observer)) }
        if let tls {
            try pipeline.addHandler(NIOSSLServerHandler(context: tls))
            try pipeline.addHandler(ALPNGuard(expected: "h2", logger: logger))
        }
        var settings = HTTP2Settings()
        settings.append(HTTP2Setting(parameter: .maxConcurrentStreams, value: refusal == nil ? configuration.maxConcurrentStreams : 0))
        settings.append(HTTP2Setting(parameter: .initialWindowSize, value: configuration.streamWindow))
        settings.append(HTTP2Setting(parameter: .maxFrameSize, value: 1 << 14))
        settings.append(HTTP2Setting(parameter: .maxHeaderListSize, value: configuration.maxHeaderListSize))
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = settings
        // Request headers are validated by GRPCRequestHead.parse in the same pass that reads
        // them, and every header block sent is built here: swift-nio-http2's second pass
        // over each block (about a tenth of a call's CPU) is off.
        connection.headerBlockValidation = .disabled
        // gRPC bodies are length-prefixed messages; a content-length is neither sent nor needed.
        connection.contentLengthValidation = .disabled
        // DATA a client sent before it learnt that the server ended the call is dropped, not
        // counted as a "glitch" that closes the connection: remember as many reset streams as
        // can be open at once, twice over.
        connection.maximumRecentlyResetStreams = max(32, 2 * configuration.maxConcurrentStreams)
        let resets = HTTP2ResetWatch()
        let tally = HTTP2FrameTally()
        try pipeline.addHandler(HTTP2FrameScan(tally: tally, configuration: configuration))
        try pipeline.addHandler(NIOHTTP2Handler(mode: .server, frameDelegate: resets, connectionConfiguration: connection))
        try pipeline.addHandler(GRPCConnectionHandler(router: router, configuration: configuration, logger: logger,
                                                      allocator: channel.allocator, observer: observer, resets: resets,
                                                      tally: tally))
        if let refusal {
            // GOAWAY ENHANCE_YOUR_CALM whose debug data says "OVERLOADED: " and which limit.
            channel.eventLoop.execute {
                channel.pipeline.fireUserInboundEventTriggered(GRPCConnectionEvent.refuse(refusal))
            }
        }
    }

    /// Records a new connection and counts it against the limits; returns why it is
    /// refused, if it is (it is still recorded, for closing).
    private func admit(_ channel: any Channel) -> String? {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.connections[id] = channel }
        observer?.connectionOpened(.grpc)
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        let admission = limits.admit(address: address)
        let limits = self.limits
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLock { $0.connections.removeValue(forKey: id) }
            if admission == .admitted { limits.release(address: address) }
            self?.observer?.connectionClosed(.grpc)
        }
        guard case .refused(let reason, let kind) = admission else { return nil }
        observer?.refused(.grpc, reason: kind)
        logger.debug("gRPC connection refused", metadata: ["peer": "\(address)", "reason": "\(reason)"])
        return reason
    }

    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Graceful shutdown: stop accepting, GOAWAY every connection (open calls may finish),
    /// wait up to `grace`, then close what is left.
    public func drain(grace: Duration) async {
        let (listener, connections) = state.withLock { ($0.listener, Array($0.connections.values)) }
        try? await listener?.close()
        for channel in connections {
            channel.pipeline.fireUserInboundEventTriggered(GRPCConnectionEvent.drain)
        }
        let deadline = ContinuousClock.now.advanced(by: grace)
        while connectionCount > 0, ContinuousClock.now < deadline {
            await pause(for: .milliseconds(20))
        }
        for channel in state.withLock({ Array($0.connections.values) }) { try? await channel.close() }
    }
}

func timeAmount(_ duration: Duration) -> TimeAmount {
    .nanoseconds(duration.saturatingNanoseconds)
}
