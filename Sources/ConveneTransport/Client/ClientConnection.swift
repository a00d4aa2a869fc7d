import ConveneRPC
import ConveneWire
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One connection to a Convene server, multiplexing any number of concurrent calls.
///
/// `ConveneClient` (in the ConveneClient library) adds reconnection and typed stubs on top.
public final class ClientConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<ClientConnectionHandler>
    let status: ConnectionStatus
    public var eventLoop: any EventLoop { channel.eventLoop }

    private init(channel: any Channel, handler: NIOLoopBound<ClientConnectionHandler>, status: ConnectionStatus) {
        self.channel = channel
        self.handler = handler
        self.status = status
    }

    /// Connects and completes the handshake (TLS when `tls` is given, then preface and SETTINGS).
    public static func connect(host: String, port: Int, configuration: ConnectionConfiguration = ConnectionConfiguration(),
                               tls: ClientTLS? = nil,
                               group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> ClientConnection {
        let status = ConnectionStatus()
        let tlsContext = try tls?.makeContext()
        let channel: any Channel
        let bound: NIOLoopBound<ClientConnectionHandler>
        do {
            // The initializer hands back the handler itself: a server that closes at once has
            // already removed it from the pipeline by the time we could look it up.
            (channel, bound) = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.nanoseconds(configuration.handshakeTimeout.nanoseconds))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tlsContext {
                            try channel.pipeline.syncOperations.addHandler(
                                TransportSecurity.clientHandler(context: tlsContext, host: host,
                                                                serverHostname: tls?.serverHostname))
                        }
                        let handler = ClientConnectionHandler(configuration: configuration, eventLoop: channel.eventLoop,
                                                              allocator: channel.allocator, status: status)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return (channel, NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    }
                }
        } catch {
            throw RPCError(.unavailable, "cannot connect to \(host):\(port): \(error)")
        }
        let connection = ClientConnection(channel: channel, handler: bound, status: status)
        do {
            try await channel.eventLoop.flatSubmit { bound.value.handshake.futureResult }.get()
        } catch {
            try? await channel.close()
            throw error
        }
        return connection
    }

    /// Whether new calls can be started (handshake done; not closed, not going away).
    public var isUsable: Bool { status.usable.load(ordering: .relaxed) }

    /// The server's settings, as received in the handshake.
    public var serverSettings: Settings {
        get async throws { try await eventLoop.submit { self.handler.value.peerSettings }.get() }
    }

    /// A unary-response call with one request message (unary and, via `serverStreaming`, its streaming sibling).
    public func unary(path: String, request: ByteBuffer, options: CallOptions = CallOptions()) async throws -> UnaryResponse {
        let handler = self.handler
        let eventLoop = self.eventLoop
        let token = CancelToken()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UnaryResponse, any Error>) in
                eventLoop.execute {
                    let h = handler.value
                    let stream = ClientStream(options: options, local: h.configuration.settings, peer: h.peerSettings,
                                              eventLoop: eventLoop)
                    stream.receiver = .single(continuation)
                    if token.register(NIOLoopBound(stream, eventLoop: eventLoop)) { stream.cancelledBeforeStart = true }
                    h.open(stream, path: path, options: options, request: request)
                }
            }
        } onCancel: {
            if let stream = token.cancel() {
                eventLoop.execute { handler.value.cancel(stream.value) }
            }
        }
    }

    /// Starts a call of any kind; send requests and read responses through the returned call.
    /// For a server-streaming method, pass its one request as `request` (sent with END_STREAM).
    public func makeCall(path: String, options: CallOptions = CallOptions(), request: ByteBuffer? = nil) async -> StreamingCall {
        let (responses, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let stream = try! await eventLoop.submit { [handler, eventLoop] in
            let h = handler.value
            let stream = ClientStream(options: options, local: h.configuration.settings, peer: h.peerSettings,
                                      eventLoop: eventLoop)
            stream.receiver = .stream(continuation)
            h.open(stream, path: path, options: options, request: request)
            return (NIOLoopBound(stream, eventLoop: eventLoop), stream.headersPromise.futureResult, stream.endPromise.futureResult)
        }.get()
        return StreamingCall(handler: handler, stream: stream.0, headers: stream.1, end: stream.2, responses: responses)
    }

    /// Round-trip time of a PING.
    public func ping() async throws -> Duration {
        let start = NIODeadline.now()
        let promise = eventLoop.makePromise(of: NIODeadline.self)
        eventLoop.execute { [handler] in handler.value.ping(promise) }
        let end = try await promise.futureResult.get()
        return .nanoseconds(Int64(end.uptimeNanoseconds) - Int64(start.uptimeNanoseconds))
    }

    /// Tells the server this client opens no more calls, and closes once open calls end.
    public func close() async {
        try? await eventLoop.submit { [handler] in handler.value.closeGracefully() }.get()
    }

    /// Closes at once, failing open calls.
    public func closeNow() async {
        try? await eventLoop.submit { [handler] in handler.value.shutDown(reason: "closed by the client") }.get()
        try? await channel.closeFuture.get()
    }

    /// Completes when the connection is closed.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}

/// Lets a task's cancellation reach a call whose stream is created on the event loop.
final class CancelToken: Sendable {
    private enum State { case idle, registered(NIOLoopBound<ClientStream>), cancelled }
    private let state = Locked(State.idle)

    /// Returns true when cancellation came first.
    func register(_ stream: NIOLoopBound<ClientStream>) -> Bool {
        state.withLock { state in
            if case .cancelled = state { return true }
            state = .registered(stream)
            return false
        }
    }

    func cancel() -> NIOLoopBound<ClientStream>? {
        state.withLock { state in
            defer { state = .cancelled }
            if case .registered(let stream) = state { return stream }
            return nil
        }
    }
}

/// State of a connection readable from any thread.
final class ConnectionStatus: Sendable {
    let usable = Atomic<Bool>(false)
}
