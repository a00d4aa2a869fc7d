import ConveneRPC
import ConveneTransport
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
///
/// This file: channel events and requests. `+Responses`: handlers and what they send.
/// `+Resources`: timers (one per connection, on the event loop's `LoopTimers`), deadlines,
/// the message timeout, the call idle limit, the memory budget and backpressure.
final class GRPCConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    let router: Router
    let observer: (any ConnectionObserver)?
    /// Which errors swift-nio-http2 reports are stream errors (`HTTP2ResetWatch`).
    let resets: HTTP2ResetWatch
    let configuration: GRPCServerConfiguration
    var logger: Logger
    let allocator: ByteBufferAllocator
    var context: ChannelHandlerContext?
    var streams: [HTTP2StreamID: GRPCServerStream] = [:]
    /// The methods this connection called last (admitted without the router's lock).
    var routes = RouteCache()
    /// Room for request messages larger than a stream's window.
    var reservations: GRPCRequestReservations
    /// A WINDOW_UPDATE for the connection is written and not yet on its way.
    var connectionCreditPending = false
    /// The last low connection window swift-nio-http2 reported while that update was pending.
    var connectionReportWhilePending: Int?
    var inReadBatch = false
    var timersDue: [HTTP2StreamID] = []
    var wroteSinceFlush = false
    var flushScheduled = false
    /// Response bytes written but not yet on the socket, over every stream (those counted).
    var outboundBytes = 0
    var readPending = false
    /// A turn of the event loop is arranged to resume what waited for responses to drain.
    var drainScheduled = false
    var peer = "unknown"
    private(set) var isClosed = false
    var lifecycle: GRPCConnectionLifecycle
    /// The connection's one wake-up: lifecycle ticks, deadlines and sweeps.
    var timer: LoopTimer?
    var nextTick: NIODeadline?
    var deadlines = DeadlineQueue()
    /// What the connection may still inflate now; bytes inflated since it was last told.
    var inflating = InflatePacing()
    var inflatedUntaken = 0
    /// While the connection is ahead of its inflating pace: its frames wait in
    /// `pacedFrames`, and its reads are held, until the pace lets it go on (`pace(for:)`).
    var paced = false
    var pacedFrames = CircularBuffer<HTTP2Frame>()
    /// Calls ended at short deadlines (`GRPCServerConfiguration.maxCallsCutShort`).
    var cutShort: CancelPolicy
    /// DATA slivers received, counted in windows (`receivedSliver`).
    var slivers: CancelPolicy
    /// The WINDOW_UPDATEs the client sent (counted by `HTTP2FrameScan`) and the DATA frames
    /// this handler wrote (each one or more on the wire).
    let tally: HTTP2FrameTally
    /// This connection's part of the server's memory budget.
    var account: BudgetAccount
    /// Handler tasks started and not finished, cancelled ones still finishing included.
    var runningTasks = 0
    /// Calls opened in this read whose task starts at its end (`launchDueTasks`).
    var launchesDue: [HTTP2StreamID] = []
    /// Synchronous calls whose request is whole, waiting for unread responses to drain.
    var deferredUnary = CircularBuffer<HTTP2StreamID>()
    /// The highest stream the peer opened; a GOAWAY names it.
    var lastStreamID = HTTP2StreamID.rootStream
    var draining = false
    static let keepalivePing = HTTP2PingData(withInteger: 0x436f_6e76_656e_6521)

    init(router: Router, configuration: GRPCServerConfiguration, logger: Logger, allocator: ByteBufferAllocator,
         observer: (any ConnectionObserver)? = nil, resets: HTTP2ResetWatch = HTTP2ResetWatch(),
         tally: HTTP2FrameTally = HTTP2FrameTally()) {
        self.observer = observer
        self.resets = resets
        self.tally = tally
        self.router = router
        self.configuration = configuration
        self.logger = logger
        self.allocator = allocator
        self.reservations = GRPCRequestReservations(
            limit: max(configuration.reservedMessageBytes, MessagePrefix.size + Int(configuration.maxMessageSize)))
        self.lifecycle = GRPCConnectionLifecycle(idleTimeout: configuration.idleTimeout.map(timeAmount),
                                                 keepaliveInterval: configuration.keepaliveInterval.map(timeAmount),
                                                 keepaliveTimeout: timeAmount(configuration.keepaliveTimeout), now: .now())
        self.account = BudgetAccount(budget: configuration.budget)
        self.cutShort = CancelPolicy(maxCancels: configuration.maxCallsCutShort, window: configuration.cutShortWindow)
        self.slivers = CancelPolicy(maxCancels: configuration.maxSlivers, window: configuration.sliverWindow)
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

    private var started = false
    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        peer = context.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        logger[metadataKey: "peer"] = "\(peer)"
        // HTTP/2 starts every connection window at 65,535 bytes.
        creditConnection(to: 65_535, always: true)
        flushNow()
        startTimer(context: context)
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
        timer?.cancel()
        timer = nil
        for stream in streams.values { abort(stream, error) }
        streams.removeAll()
        deferredUnary.removeAll()
        account.close()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        resets.forget()
        if !inReadBatch { lifecycle.read(now: .now()) }
        inReadBatch = true
        // Past its inflating pace, the connection's frames wait (in order) until it is within it.
        guard !paced else { return pacedFrames.append(frame) }
        handle(frame)
    }

    /// One frame from the client, in order.
    func handle(_ frame: HTTP2Frame) {
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
        case .windowUpdate:
            if let stream = streams[frame.streamID] { stream.lastProgress = .now() }
        case .ping(_, ack: true):
            lifecycle.pingAcknowledged()
        default:
            break  // SETTINGS, PING, GOAWAY: swift-nio-http2 handles them.
        }
        if inflatedUntaken > 0 {
            let wait = inflating.inflated(inflatedUntaken, now: MonotonicInstant.now)
            inflatedUntaken = 0
            if let wait { pace(for: wait) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBatch = false
        launchDueTasks()
        armDeadlines()
        flushNow()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // swift-nio-http2 sends several events per stream: compare the type before casting.
        if type(of: event) == NIOHTTP2WindowUpdatedEvent.self {
            let update = event as! NIOHTTP2WindowUpdatedEvent
            if update.streamID == .rootStream, let inbound = update.inboundWindowSize {
                creditConnection(to: inbound)
            }
        } else if type(of: event) == StreamClosedEvent.self {
            let closed = event as! StreamClosedEvent
            if let stream = streams.removeValue(forKey: closed.streamID) {
                abort(stream, RPCError(.cancelled, closed.reason.map { "stream reset: \($0)" } ?? "stream closed"))
                endedCall()
            }
        } else if let event = event as? GRPCConnectionEvent {
            switch event {
            case .drain: drain()
            case .refuse(let reason): goAway(.enhanceYourCalm, "OVERLOADED: \(reason)", close: true)
            case .flood(let reason):
                observer?.refused(.grpc, reason: .frameFlood)
                goAway(.enhanceYourCalm, reason, close: true)
            }
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
            timer?.cancel()
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A stream error (DATA on a stream the client had ended, say): swift-nio-http2 reset
        // that stream, and its StreamClosedEvent ends the call; the other calls go on.
        if error is any NIOHTTP2Error, let stream = resets.takeReset() {
            logger.debug("HTTP/2 stream error", metadata: ["stream": "\(stream)", "error": "\(error)"])
            return
        }
        logger.debug("HTTP/2 connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Requests

    private func open(_ id: HTTP2StreamID, _ frame: HTTP2Frame.FramePayload.Headers) {
        if id > lastStreamID { lastStreamID = id }
        tally.streamsOpened += 1
        guard !draining else {
            // Above the GOAWAY's last stream: never processed, safe for the client to retry.
            write(HTTP2Frame(streamID: id, payload: .rstStream(.refusedStream)))
            return scheduleFlush()
        }
        lifecycle.callActivity(now: .now())
        let head: GRPCRequestHead
        switch GRPCRequestHead.parse(frame.headers) {
        case .success(let parsed): head = parsed
        case .failure(.malformed(let reason)):
            logger.debug("malformed request headers", metadata: ["reason": "\(reason)"])
            observer?.refused(.grpc, reason: .malformed)
            write(HTTP2Frame(streamID: id, payload: .rstStream(.protocolError)))
            return scheduleFlush()
        case .failure(.answer(let httpStatus, let error)):
            return refuse(id, httpStatus: httpStatus, error, requestOpen: !frame.endStream)
        }
        let method: RegisteredMethod
        switch router.admit(path: head.path, metadata: head.metadata, cache: &routes) {
        case .run(let found): method = found
        case .refuse(let error, let refused):
            router.countRefusal(error, of: refused, transport: .grpc)
            return refuse(id, httpStatus: 200, error, requestOpen: !frame.endStream)
        }
        let stream = GRPCServerStream(id: id, method: method, head: head, maxMessageSize: configuration.maxMessageSize,
                                      window: configuration.streamWindow, now: .now())
        if let (refusal, reason) = admissionRefusal(stream) {
            observer?.refused(.grpc, reason: reason)
            return refuse(id, httpStatus: 200, refusal, requestOpen: !frame.endStream)
        }
        account.charge(stream.openCost)
        streams[id] = stream
        noteStreamOpened()
        if stream.deadline != nil {
            if inReadBatch { timersDue.append(id) } else { armDeadline(stream) }
        }
        if case .asynchronous(let body) = method.handler { startTask(stream, body) }
        if frame.endStream { endOfRequest(stream) }
    }

    private func receive(_ id: HTTP2StreamID, _ data: HTTP2Frame.FramePayload.Data) {
        let size = data.data.readableBytes + (data.paddingBytes.map { $0 + 1 } ?? 0)
        guard let stream = streams[id], !stream.requestClosed, case .byteBuffer(let payload) = data.data else {
            // A call already ended (answered, refused or reset): its bytes are dropped.
            return
        }
        guard account.admits(size) else {
            return fail(stream, RPCError(.resourceExhausted, account.budget?.refusalMessage ?? ""))
        }
        if let declared = stream.head.contentLength {
            stream.contentReceived += payload.readableBytes
            guard stream.contentReceived <= declared else {
                return malformed(stream, "its DATA exceeds its content-length of \(declared) bytes")
            }
        }
        account.charge(size)
        stream.inbound.received(size)
        stream.addReceived(size)
        stream.lastProgress = .now()
        let insideMessage = stream.deframer.bufferedBytes > 0
        stream.deframer.append(payload)
        var completed = false
        do {
            while let framed = try stream.deframer.next() {
                completed = true
                let message = try decode(framed, of: stream)
                stream.messagesReceived += 1
                if !stream.method.descriptor.kind.clientStreams && stream.messagesReceived > 1 {
                    throw RPCError(.internal, "\(stream.method.descriptor.kind) method \(stream.method.descriptor.path) received more than one request message")
                }
                // Held until the handler takes it (a synchronous one: until it runs).
                stream.queue(wireSize: MessagePrefix.size + framed.bytes.readableBytes)
                // A message kept past this read is not a slice holding the whole read buffer;
                // the one request of a call whose stream ends in this frame is taken at once, as it is.
                let kept = data.endStream && !stream.method.descriptor.kind.clientStreams ? message : message.detachedIfSmall()
                if stream.isSynchronous {
                    stream.unaryRequest = kept
                    stream.unaryRequestEncoding = framed.encoding.rawValue == 0 ? .identity
                        : stream.head.requestEncoding?.messageEncoding ?? .identity
                } else {
                    stream.keptForHandler += 1
                    account.charge(KeptMessage.overhead)
                    stream.requests?.yield(kept)
                }
            }
        } catch let error as WireError {
            return fail(stream, error.grpcCallError)
        } catch {
            return fail(stream, RPCError.from(error))
        }
        if payload.readableBytes < Self.sliverBytes, insideMessage, !completed, !receivedSliver() { return }
        if stream.deframer.bufferedBytes == 0 {
            stream.incompleteSince = nil
        } else if completed || stream.incompleteSince == nil {
            stream.incompleteSince = .now()
        }
        reserveRoomIfNeeded(stream)
        creditConsumed(stream)
        if data.endStream { endOfRequest(stream) }
    }

    /// A request HTTP/2 calls malformed once it has begun (RFC 9113 §8.1.1): a stream error,
    /// RST_STREAM PROTOCOL_ERROR; the call ends and the connection goes on.
    private func malformed(_ stream: GRPCServerStream, _ reason: String) {
        logger.debug("malformed request", metadata: ["stream": "\(stream.id)", "reason": "\(reason)"])
        observer?.refused(.grpc, reason: .malformed)
        streams[stream.id] = nil
        abort(stream, RPCError(.internal, "malformed request: \(reason)"))
        write(HTTP2Frame(streamID: stream.id, payload: .rstStream(.protocolError)))
        scheduleFlush()
        endedCall()
    }

    private func decode(_ framed: FramedMessage, of stream: GRPCServerStream) throws -> ByteBuffer {
        switch framed.encoding.rawValue {
        case 0:
            return framed.bytes
        case 1:
            guard let encoding = stream.head.requestEncoding else {
                throw RPCError(.internal, "a message is flagged compressed but the call's grpc-encoding is identity (or absent): name gzip or deflate to send compressed messages")
            }
            do {
                let bytes = try MessageCompression.inflate(framed.bytes, limit: configuration.maxMessageSize,
                                                           maxRatio: configuration.maxDecompressionRatio,
                                                           format: encoding.format, allocator: allocator)
                inflatedUntaken += bytes.readableBytes
                return bytes
            } catch {
                // Refused at a limit: it may have inflated up to that limit first.
                inflatedUntaken += MessageCompression.inflateBound(compressed: framed.bytes.readableBytes,
                                                                   limit: configuration.maxMessageSize,
                                                                   maxRatio: configuration.maxDecompressionRatio)
                throw error.grpcCallError
            }
        default:
            throw RPCError(.internal, "message flag \(framed.encoding.rawValue) is neither 0 nor 1")
        }
    }

    func endOfRequest(_ stream: GRPCServerStream) {
        guard !stream.requestClosed else { return }
        if let declared = stream.head.contentLength, stream.contentReceived != declared {
            return malformed(stream, "its DATA add up to \(stream.contentReceived) bytes, not its content-length of \(declared)")
        }
        stream.requestClosed = true
        if stream.deframer.bufferedBytes > 0 {
            return fail(stream, RPCError(.internal, "stream ended inside a message (\(stream.deframer.bufferedBytes) bytes of it)"))
        }
        if stream.isSynchronous {
            // While responses go unread, the call waits: its request is all it holds.
            if isOverOutboundAllowance || !deferredUnary.isEmpty {
                // It waits: kept apart from the read buffer it came in.
                stream.unaryRequest = stream.unaryRequest?.detachedIfSmall()
                deferredUnary.append(stream.id)
            } else {
                runSynchronous(stream)
            }
        } else {
            stream.requests?.finish()
        }
    }
}

/// Events the transport sends down a gRPC connection's pipeline.
enum GRPCConnectionEvent: Sendable {
    /// Accept no new call (GOAWAY), let open ones finish, then close.
    case drain
    /// The connection is over a limit: GOAWAY naming it, then close.
    case refuse(String)
    /// The client floods frames swift-nio-http2 takes silently (`HTTP2FrameScan`): GOAWAY
    /// ENHANCE_YOUR_CALM with the reason, then close.
    case flood(String)
}
