import ConveneRPC
import ConveneWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Accepts TCP connections and serves the Convene protocol on each, through a router.
public final class ServerTransport: Sendable {
    public let router: Router
    public let configuration: ConnectionConfiguration
    public let group: any EventLoopGroup
    /// TLS on every accepted connection (from `ServerTLS.makeContext()`); nil serves plaintext.
    let tls: NIOSSLContext?
    let logger: Logger
    /// Told of connections opened and closed, their bytes, GOAWAYs and refusals (metrics).
    let observer: (any ConnectionObserver)?
    /// The connection limits, shared with the gRPC listener when the configuration names them.
    public let limits: ConnectionLimits
    private let state = Locked(State())

    private struct State {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    public init(router: Router, configuration: ConnectionConfiguration = ConnectionConfiguration(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, tls: NIOSSLContext? = nil,
                logger: Logger, observer: (any ConnectionObserver)? = nil) {
        self.observer = observer
        self.router = router
        self.tls = tls
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.limits = configuration.limits ?? ConnectionLimits(maxConnections: configuration.maxConnections,
                                                                maxPerAddress: configuration.maxConnectionsPerAddress)
    }

    /// Starts listening; returns the bound address (port 0 picks a free port).
    @discardableResult
    public func bind(host: String, port: Int) async throws -> SocketAddress {
        let configuration = self.configuration
        let router = self.router
        let logger = self.logger
        let tls = self.tls
        let limits = self.limits
        let observer = self.observer
        let outbound = configuration.maxOutboundBuffered
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptGuard(limits: limits, logger: logger, listener: "native"))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Not writable past the outbound allowance: the handler then stops reading.
            .childChannelOption(.writeBufferWaterMark, value: .init(low: outbound / 2, high: outbound))
            .childChannelInitializer { [weak self] channel in
                let refusal = self?.admit(channel)
                return channel.eventLoop.makeCompletedFuture {
                    // Bytes on the socket: counted by the connection handler itself when nothing
                    // stands between it and the socket (an extra handler costs about 7 % of a
                    // small call's CPU), by a ByteCounter ahead of TLS otherwise.
                    if let observer, tls != nil {
                        try channel.pipeline.syncOperations.addHandler(ByteCounter(transport: .native, observer: observer))
                    }
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        try channel.pipeline.syncOperations.addHandler(ALPNGuard(expected: TransportSecurity.alpn, logger: logger))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ServerConnectionHandler(router: router, configuration: configuration, logger: logger,
                                                allocator: channel.allocator, refusal: refusal, observer: observer,
                                                countsBytes: tls == nil))
                }
            }
            .bind(host: host, port: port).get()
        state.withLock { $0.listener = channel }
        guard let address = channel.localAddress else { throw RPCError(.internal, "listener has no address") }
        return address
    }

    /// Records a new connection and counts it against the limits; returns why it is
    /// refused, if it is (it is still recorded, for closing).
    private func admit(_ channel: any Channel) -> String? {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.connections[id] = channel }
        observer?.connectionOpened(.native)
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        let admission = limits.admit(address: address)
        let limits = self.limits
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLock { $0.connections.removeValue(forKey: id) }
            if admission == .admitted { limits.release(address: address) }
            self?.observer?.connectionClosed(.native)
        }
        guard case .refused(let reason, let kind) = admission else { return nil }
        observer?.refused(.native, reason: kind)
        logger.debug("connection refused", metadata: ["peer": "\(address)", "reason": "\(reason)"])
        return reason
    }

    /// Open connections right now.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Graceful shutdown: stop accepting, tell every client to drain (GOAWAY), let calls in
    /// flight finish for up to `grace`, then close what is left.
    public func drain(grace: Duration) async {
        let (listener, connections) = state.withLock { ($0.listener, Array($0.connections.values)) }
        try? await listener?.close()
        for channel in connections {
            channel.pipeline.fireUserInboundEventTriggered(ServerConnectionEvent.drain)
        }
        let deadline = ContinuousClock.now.advanced(by: grace)
        while connectionCount > 0, ContinuousClock.now < deadline {
            await pause(for: .milliseconds(20))
        }
        let left = state.withLock { Array($0.connections.values) }
        if !left.isEmpty {
            logger.info("closing connections still open after the grace period", metadata: ["count": "\(left.count)"])
        }
        for channel in left { try? await channel.close() }
    }

    /// Closes the listener and every connection at once.
    public func close() async {
        await drain(grace: .zero)
    }
}

/// A server connection handler for in-memory use (EmbeddedChannel tests and fuzzers); with
/// `clock: .following(channel.embeddedEventLoop)` its timeouts move with `advanceTime`.
public func makeServerConnectionHandler(router: Router, configuration: ConnectionConfiguration,
                                        logger: Logger, clock: ConnectionClock = .continuous) -> any ChannelHandler {
    ServerConnectionHandler(router: router, configuration: configuration, logger: logger, clock: clock)
}
