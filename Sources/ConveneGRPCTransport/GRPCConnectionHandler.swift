import ConveneRPC
import ConveneWire
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2

/// Serves gRPC on one HTTP/2 connection, from the frames `NIOHTTP2Handler` decodes.
///
/// The same shape as the native connection handler: no child channel per stream;
/// synchronous unary handlers answer inline while the read is processed; everything written
/// during a read goes out with one flush at `channelReadComplete`; asynchronous handlers run
/// as tasks and hop back here to write. HTTP/2 itself (HPACK, stream states, SETTINGS,
/// PING, outbound flow control, rapid-reset limits) is swift-nio-http2's.
final class GRPCConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    let router: Router
    let configuration: GRPCServerConfiguration
    var logger: Logger
    let allocator: ByteBufferAllocator
    let observer: (any ConnectionObserver)?
    var context: ChannelHandlerContext?
    var streams: [HTTP2StreamID: GRPCServerStream] = [:]
    var connectionWindow: InboundWindow
    var inReadBatch = false
    var timersDue: [HTTP2StreamID] = []
    var wroteSinceFlush = false
    var flushScheduled = false
    /// Response bytes written but not yet on the socket, over every stream.
    var outboundBytes = 0
    var readPending = false
    var peer = "unknown"
    var isClosed = false
    var lifecycle: GRPCConnectionLifecycle
    var ticker: RepeatedTask?
    /// The highest stream the peer opened; a GOAWAY names it.
    var lastStreamID = HTTP2StreamID.rootStream
    var draining = false
    private static let keepalivePing = HTTP2PingData(withInteger: 0x436f_6e76_656e_6521)

    init(router: Router, configuration: GRPCServerConfiguration, logger: Logger, allocator: ByteBufferAllocator,
         observer: (any ConnectionObserver)? = nil) {
        self.observer = observer
        self.router = router
        self.configuration = configuration
        self.logger = logger
        self.allocator = allocator
        // HTTP/2 starts every connection window at 65,535 bytes; ours is raised at start.
        self.connectionWindow = InboundWindow(target: configuration.connectionWindow, initial: 65_535)
        self.lifecycle = GRPCConnectionLifecycle(idleTimeout: configuration.idleTimeout.map(timeAmount),
                                                 keepaliveInterval: configuration.keepaliveInterval.map(timeAmount),
                                                 keepaliveTimeout: timeAmount(configuration.keepaliveTimeout), now: .now())
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    var started = false
    func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        peer = context.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        logger[metadataKey: "peer"] = "\(peer)"
        if let increment = raiseConnectionWindow() {
            write(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment)))
            flushNow()
        }
        if let interval = lifecycle.tickInterval {
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                loopBound.value.tick()
            }
        }
    }

    func tick() {
        guard !isClosed else { return }
        switch lifecycle.tick(now: .now(), openCalls: streams.count) {
        case .none:
            break
        case .ping:
            write(HTTP2Frame(streamID: .rootStream, payload: .ping(Self.keepalivePing, ack: false)))
            flushNow()
        case .close(let reason):
            goAway(.noError, reason, close: true)
        }
    }

    /// Tells the peer no new call will be accepted (GOAWAY naming the last one that was), and
    /// closes now or once the open calls have ended.
    func goAway(_ code: HTTP2ErrorCode, _ reason: String, close: Bool) {
        guard let context, !isClosed else { return }
        logger.debug("gRPC connection going away", metadata: ["reason": "\(reason)"])
        if !draining {
            draining = true
            observer?.goAway(.grpc, code: code == .noError ? "NO_ERROR" : "HTTP2_\(code.networkCode)")
            var data = context.channel.allocator.buffer(capacity: reason.utf8.count)
            data.writeString(reason)
            write(HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: lastStreamID, errorCode: code, opaqueData: data)))
            flushNow()
        }
        if close || streams.isEmpty {
            shutDownStreams(RPCError(.unavailable, "connection closed: \(reason)"))
            context.close(promise: nil)
        }
    }

    /// Graceful shutdown: open calls may finish; the transport closes what is left after its grace.
    func drain() {
        goAway(.noError, "server is shutting down", close: false)
    }

    func raiseConnectionWindow() -> Int? {
        let missing = configuration.connectionWindow - 65_535
        guard missing > 0 else { return nil }
        connectionWindow = InboundWindow(target: configuration.connectionWindow)
        return missing
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        shutDownStreams(RPCError(.unavailable, "connection closed"))
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        shutDownStreams(RPCError(.unavailable, "connection closed"))
        context.fireChannelInactive()
    }

    func shutDownStreams(_ error: RPCError) {
        isClosed = true
        ticker?.cancel()
        for stream in streams.values { abort(stream, error) }
        streams.removeAll()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if !inReadBatch { lifecycle.read(now: .now()) }
        inReadBatch = true
        switch frame.payload {
        case .headers(let headers):
            if let stream = streams[frame.streamID] {
                // Trailers from a client: only their END_STREAM matters.
                if headers.endStream { endOfRequest(stream) }
            } else {
                open(frame.streamID, headers)
            }
        case .data(let data):
            receive(frame.streamID, data)
        case .rstStream(let code):
            if let stream = streams.removeValue(forKey: frame.streamID) {
                abort(stream, RPCError(.cancelled, "call cancelled by the client (RST_STREAM \(code))"))
                endedCall()
            }
        case .ping(_, ack: true):
            lifecycle.pingAcknowledged()
        default:
            break  // SETTINGS, PING, GOAWAY, WINDOW_UPDATE: swift-nio-http2 handles them.
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBatch = false
        for id in timersDue { if let stream = streams[id] { armDeadline(stream) } }
        timersDue.removeAll(keepingCapacity: true)
        flushNow()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // swift-nio-http2 sends several events per stream: compare the type before casting.
        if type(of: event) == StreamClosedEvent.self {
            let closed = event as! StreamClosedEvent
            if let stream = streams.removeValue(forKey: closed.streamID) {
                abort(stream, RPCError(.cancelled, closed.reason.map { "stream reset: \($0)" } ?? "stream closed"))
                endedCall()
            }
        } else if type(of: event) == GRPCConnectionEvent.self {
            drain()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A call ended: the connection is active, and a draining one may now close.
    func endedCall() {
        lifecycle.callActivity(now: .now())
        if draining, streams.isEmpty, let context {
            flushNow()
            isClosed = true
            ticker?.cancel()
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("HTTP/2 connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Holds reads while the client leaves too many response bytes unread, so that pipelined
    /// calls cannot make the server queue responses without bound.
    func read(context: ChannelHandlerContext) {
        if outboundBytes > configuration.connectionOutboundAllowance {
            readPending = true
        } else {
            context.read()
        }
    }
}
