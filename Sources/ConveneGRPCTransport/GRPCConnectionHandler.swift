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
    var context: ChannelHandlerContext?
    var streams: [HTTP2StreamID: GRPCServerStream] = [:]
    private var connectionWindow: InboundWindow
    private var inReadBatch = false
    private var timersDue: [HTTP2StreamID] = []
    private var wroteSinceFlush = false
    private var flushScheduled = false
    /// Response bytes written but not yet on the socket, over every stream.
    private var outboundBytes = 0
    private var readPending = false
    private var peer = "unknown"
    private(set) var isClosed = false
    private var lifecycle: GRPCConnectionLifecycle
    private var ticker: RepeatedTask?
    /// The highest stream the peer opened; a GOAWAY names it.
    private var lastStreamID = HTTP2StreamID.rootStream
    private var draining = false
    private static let keepalivePing = HTTP2PingData(withInteger: 0x436f_6e76_656e_6521)

    init(router: Router, configuration: GRPCServerConfiguration, logger: Logger, allocator: ByteBufferAllocator) {
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

    private var started = false
    private func start(context: ChannelHandlerContext) {
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

    private func tick() {
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
    private func goAway(_ code: HTTP2ErrorCode, _ reason: String, close: Bool) {
        guard let context, !isClosed else { return }
        logger.debug("gRPC connection going away", metadata: ["reason": "\(reason)"])
        if !draining {
            draining = true
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

    private func raiseConnectionWindow() -> Int? {
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

    private func shutDownStreams(_ error: RPCError) {
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
    private func endedCall() {
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

    // MARK: - Requests

    private func open(_ id: HTTP2StreamID, _ frame: HTTP2Frame.FramePayload.Headers) {
        if id > lastStreamID { lastStreamID = id }
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
            write(HTTP2Frame(streamID: id, payload: .rstStream(.protocolError)))
            return scheduleFlush()
        case .failure(.answer(let httpStatus, let error)):
            return refuse(id, httpStatus: httpStatus, error, requestOpen: !frame.endStream)
        }
        let method: RegisteredMethod
        switch router.lookup(path: head.path) {
        case .found(let found): method = found
        case .unimplemented(let error): return refuse(id, httpStatus: 200, error, requestOpen: !frame.endStream)
        }
        let stream = GRPCServerStream(id: id, method: method, head: head, maxMessageSize: configuration.maxMessageSize,
                                      window: configuration.streamWindow)
        streams[id] = stream
        if stream.deadline != nil {
            if inReadBatch { timersDue.append(id) } else { armDeadline(stream) }
        }
        if case .asynchronous(let body) = method.handler { startTask(stream, body) }
        if frame.endStream { endOfRequest(stream) }
    }

    private func receive(_ id: HTTP2StreamID, _ data: HTTP2Frame.FramePayload.Data) {
        let size = data.data.readableBytes + (data.paddingBytes.map { $0 + 1 } ?? 0)
        connectionWindow.received(size)
        guard let stream = streams[id], !stream.requestClosed, case .byteBuffer(let payload) = data.data else {
            // A call already ended (answered, refused or reset): its bytes are dropped.
            return creditConnection(size)
        }
        stream.inbound.received(size)
        stream.addReceived(size)
        stream.deframer.append(payload)
        do {
            while let framed = try stream.deframer.next() {
                let message = try decode(framed, of: stream)
                stream.messagesReceived += 1
                if !stream.method.descriptor.kind.clientStreams && stream.messagesReceived > 1 {
                    throw RPCError(.internal, "\(stream.method.descriptor.kind) method \(stream.method.descriptor.path) received more than one request message")
                }
                if stream.isSynchronous {
                    stream.unaryRequest = message
                    stream.unaryRequestEncoding = framed.encoding.rawValue == 0 ? .identity
                        : stream.head.requestEncoding?.messageEncoding ?? .identity
                } else {
                    stream.queue(wireSize: MessagePrefix.size + framed.bytes.readableBytes)
                    stream.requests?.yield(message)
                }
            }
        } catch let error as WireError {
            return fail(stream, error.grpcCallError)
        } catch {
            return fail(stream, RPCError.from(error))
        }
        creditConsumed(stream)
        if data.endStream { endOfRequest(stream) }
    }

    private func decode(_ framed: FramedMessage, of stream: GRPCServerStream) throws -> ByteBuffer {
        switch framed.encoding.rawValue {
        case 0:
            return framed.bytes
        case 1:
            guard let encoding = stream.head.requestEncoding else {
                throw RPCError(.internal, "a message is flagged compressed but the call named no grpc-encoding")
            }
            do {
                return try MessageCompression.inflate(framed.bytes, limit: configuration.maxMessageSize,
                                                      maxRatio: configuration.maxDecompressionRatio,
                                                      format: encoding.format, allocator: allocator)
            } catch {
                throw error.grpcCallError
            }
        default:
            throw RPCError(.internal, "message flag \(framed.encoding.rawValue) is neither 0 nor 1")
        }
    }

    private func endOfRequest(_ stream: GRPCServerStream) {
        guard !stream.requestClosed else { return }
        stream.requestClosed = true
        if stream.deframer.bufferedBytes > 0 {
            return fail(stream, RPCError(.internal, "stream ended inside a message (\(stream.deframer.bufferedBytes) bytes of it)"))
        }
        if case .synchronousUnary(let body) = stream.method.handler {
            runSynchronous(stream, body)
        } else {
            stream.requests?.finish()
        }
    }

    /// Credits a stream's and the connection's windows for every byte received except the
    /// messages queued for a task that has not taken them yet. Bytes of a message still
    /// incomplete are credited (they are bounded by the max message size), so a message
    /// larger than the window can arrive.
    private func creditConsumed(_ stream: GRPCServerStream) {
        let bytes = stream.takeCreditable()
        guard bytes > 0 else { return }
        if !stream.requestClosed, let increment = stream.inbound.consumed(bytes) {
            write(HTTP2Frame(streamID: stream.id, payload: .windowUpdate(windowSizeIncrement: increment)))
        }
        creditConnection(bytes)
    }

    /// A call that ended gives back to the connection whatever it still held.
    private func releaseWindow(_ stream: GRPCServerStream) {
        creditConnection(stream.takeAllUncredited())
    }

    private func creditConnection(_ bytes: Int) {
        if let increment = connectionWindow.consumed(bytes) {
            write(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment)))
        }
    }

    // MARK: - Handlers

    private func runSynchronous(_ stream: GRPCServerStream,
                                _ body: (ByteBuffer, inout UnaryContext) throws -> ByteBuffer) {
        guard let request = stream.unaryRequest else {
            return fail(stream, RPCError(.internal, "unary call ended without a request message"))
        }
        stream.unaryRequest = nil
        var unary = UnaryContext(method: stream.method.descriptor, requestMetadata: stream.head.metadata,
                                 deadline: stream.deadline, peer: peer, allocator: allocator)
        unary.requestEncoding = stream.unaryRequestEncoding
        do {
            let response = try body(request, &unary)
            let encoding = stream.head.responseEncoding(for: unary.responseCompression)
            writeResponseHeaders(stream, unary.responseHeaders, announcing: encoding)
            if let encoding {
                writeFramed(stream, encoding.compress(response, allocator: allocator), compressed: true, promise: nil)
            } else {
                writeFramed(stream, response, compressed: false, promise: nil)
            }
            finish(stream, CallEnd(code: .ok, trailers: unary.responseTrailers))
        } catch {
            fail(stream, RPCError.from(error))
        }
    }

    private func startTask(_ stream: GRPCServerStream,
                           _ body: @escaping @Sendable (RequestStream, any ResponseWriter, ServerCallContext) async throws -> Void) {
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let id = stream.id
        let eventLoop = context.eventLoop
        let (requestStream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        stream.requests = continuation
        let requests = RequestStream(requestStream, onConsumed: { _ in
            eventLoop.execute { loopBound.value.requestConsumed(id) }
        })
        let writer = GRPCResponseWriter(handler: loopBound, streamID: id, head: stream.head, allocator: allocator)
        let callContext = ServerCallContext(method: stream.method.descriptor, requestMetadata: stream.head.metadata,
                                            deadline: stream.deadline, peer: peer)
        stream.task = Task {
            let result: Result<Void, any Error>
            do {
                try await body(requests, writer, callContext)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            eventLoop.execute { loopBound.value.handlerFinished(id, result) }
        }
    }

    // MARK: - Called from handler tasks, on the event loop

    func requestConsumed(_ id: HTTP2StreamID) {
        guard let stream = streams[id] else { return }
        stream.dequeueOne()
        creditConsumed(stream)
        scheduleFlush()
    }

    func sendHeaders(_ id: HTTP2StreamID, _ metadata: Metadata) throws {
        guard let stream = streams[id] else { throw RPCError(.cancelled, "the call has ended") }
        guard !stream.headersSent else { throw RPCError(.internal, "headers were already sent") }
        writeResponseHeaders(stream, metadata, announcing: stream.head.responseEncoding)
        scheduleFlush()
    }

    func send(_ id: HTTP2StreamID, _ message: ByteBuffer, compressed: Bool, completion: CheckedContinuation<Void, any Error>) {
        guard let stream = streams[id], let context else {
            return completion.resume(throwing: RPCError(.cancelled, "the call has ended"))
        }
        writeResponseHeaders(stream, Metadata(), announcing: stream.head.responseEncoding)
        let promise = context.eventLoop.makePromise(of: Void.self)
        let size = MessagePrefix.size + message.readableBytes
        stream.unflushedBytes += size
        outboundBytes += size
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { _ in loopBound.value.written(id, size) }
        writeFramed(stream, message, compressed: compressed, promise: promise)
        scheduleFlush()
        if stream.unflushedBytes <= configuration.streamOutboundAllowance {
            completion.resume()
        } else {
            stream.parkedSend = completion
        }
    }

    private func written(_ id: HTTP2StreamID, _ size: Int) {
        outboundBytes -= size
        if let stream = streams[id] {
            stream.unflushedBytes -= size
            if stream.unflushedBytes <= configuration.streamOutboundAllowance, let parked = stream.parkedSend {
                stream.parkedSend = nil
                parked.resume()
            }
        }
        if readPending, outboundBytes <= configuration.connectionOutboundAllowance, let context {
            readPending = false
            context.read()
        }
    }

    func setTrailers(_ id: HTTP2StreamID, _ metadata: Metadata) {
        streams[id]?.trailers = metadata
    }

    func handlerFinished(_ id: HTTP2StreamID, _ result: Result<Void, any Error>) {
        guard let stream = streams[id] else { return }
        switch result {
        case .success: finish(stream, CallEnd(code: .ok, trailers: stream.trailers))
        case .failure(let error): fail(stream, RPCError.from(error))
        }
    }

    // MARK: - Responses

    /// The response headers, once; `announcing` the encoding that messages may be compressed with.
    private func writeResponseHeaders(_ stream: GRPCServerStream, _ metadata: Metadata, announcing encoding: GRPCEncoding?) {
        guard !stream.headersSent else { return }
        stream.headersSent = true
        var headers = StaticHeaders.response  // shared storage: no allocation when nothing is added
        if let encoding { headers.add(name: "grpc-encoding", value: encoding.rawValue) }
        GRPCMetadata.append(metadata, to: &headers)
        write(HTTP2Frame(streamID: stream.id, payload: .headers(.init(headers: headers))))
    }

    /// One length-prefixed message in one DATA frame (swift-nio-http2 splits it to the
    /// peer's frame size and holds what its flow-control window does not allow yet).
    private func writeFramed(_ stream: GRPCServerStream, _ message: ByteBuffer, compressed: Bool,
                             promise: EventLoopPromise<Void>?) {
        var framed = allocator.buffer(capacity: MessagePrefix.size + message.readableBytes)
        framed.writeInteger(UInt8(compressed ? 1 : 0))
        framed.writeInteger(UInt32(message.readableBytes))
        framed.writeImmutableBuffer(message)
        write(HTTP2Frame(streamID: stream.id, payload: .data(.init(data: .byteBuffer(framed)))), promise: promise)
    }

    /// Ends a call with its status: trailers after a response, or trailers only.
    private func finish(_ stream: GRPCServerStream, _ end: CallEnd) {
        streams[stream.id] = nil
        releaseWindow(stream)
        stream.timer?.cancel()
        stream.requests?.finish()
        var headers: HPACKHeaders
        if stream.headersSent, end.code == .ok, end.message.isEmpty, end.trailers.isEmpty {
            headers = StaticHeaders.okTrailers
        } else {
            headers = stream.headersSent ? HPACKHeaders() : StaticHeaders.trailersOnly
            headers.add(name: "grpc-status", value: String(end.code.rawValue))
            if !end.message.isEmpty { headers.add(name: "grpc-message", value: GRPCStatusMessage.encode(end.message)) }
            GRPCMetadata.append(end.trailers, to: &headers)
        }
        write(HTTP2Frame(streamID: stream.id, payload: .headers(.init(headers: headers, endStream: true))))
        if !stream.requestClosed {
            // The answer is complete; the client need not send the rest of its request.
            write(HTTP2Frame(streamID: stream.id, payload: .rstStream(.noError)))
        }
        if let parked = stream.parkedSend {
            stream.parkedSend = nil
            parked.resume(throwing: RPCError(.cancelled, "the call has ended"))
        }
        scheduleFlush()
        endedCall()
    }

    private func fail(_ stream: GRPCServerStream, _ error: RPCError) {
        stream.task?.cancel()
        stream.requests?.finish(throwing: error)
        finish(stream, CallEnd(code: error.code, message: error.message, trailers: error.metadata))
    }

    /// A request refused before any handler ran: trailers-only (with a non-200 status where
    /// HTTP itself is wrong).
    private func refuse(_ id: HTTP2StreamID, httpStatus: Int, _ error: RPCError, requestOpen: Bool) {
        var headers = HPACKHeaders()
        headers.add(name: ":status", value: String(httpStatus))
        headers.add(name: "content-type", value: "application/grpc")
        headers.add(name: "grpc-status", value: String(error.code.rawValue))
        headers.add(name: "grpc-message", value: GRPCStatusMessage.encode(error.message))
        if error.code == .unimplemented { headers.add(name: "grpc-accept-encoding", value: GRPCEncoding.acceptHeader) }
        write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers, endStream: true))))
        if requestOpen { write(HTTP2Frame(streamID: id, payload: .rstStream(.noError))) }
        scheduleFlush()
    }

    /// Stops the handler's task and request stream, writing nothing.
    private func abort(_ stream: GRPCServerStream, _ error: RPCError) {
        if !isClosed { releaseWindow(stream) }
        stream.timer?.cancel()
        stream.requests?.finish(throwing: error)
        stream.task?.cancel()
        if let parked = stream.parkedSend {
            stream.parkedSend = nil
            parked.resume(throwing: error)
        }
    }

    private func armDeadline(_ stream: GRPCServerStream) {
        guard stream.timer == nil, let deadline = stream.deadline, let context else { return }
        let remaining = max(0, (deadline - ContinuousClock.now).saturatingNanoseconds)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let id = stream.id
        stream.timer = context.eventLoop.scheduleTask(in: .nanoseconds(remaining)) {
            let handler = loopBound.value
            guard let stream = handler.streams[id] else { return }
            stream.timer = nil
            handler.fail(stream, RPCError(.deadlineExceeded,
                "deadline exceeded (timeout was \(stream.head.timeoutMicros / 1000) ms)"))
        }
    }

    // MARK: - Writing

    private func write(_ frame: HTTP2Frame, promise: EventLoopPromise<Void>? = nil) {
        guard let context, !isClosed else {
            promise?.fail(RPCError(.unavailable, "connection closed"))
            return
        }
        wroteSinceFlush = true
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    private func flushNow() {
        guard wroteSinceFlush, let context else { return }
        wroteSinceFlush = false
        context.flush()
    }

    /// Outside a read batch, writes from several tasks in one event-loop tick share a flush.
    private func scheduleFlush() {
        guard !inReadBatch, !flushScheduled, let context else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            handler.flushScheduled = false
            handler.flushNow()
        }
    }
}

/// Header blocks every call sends, built once.
enum StaticHeaders {
    static let response = HPACKHeaders([(":status", "200"), ("content-type", "application/grpc"),
                                        ("grpc-accept-encoding", GRPCEncoding.acceptHeader)])
    static let okTrailers = HPACKHeaders([("grpc-status", "0")])
    static let trailersOnly = HPACKHeaders([(":status", "200"), ("content-type", "application/grpc")])
}

extension WireError {
    /// The status that ends a gRPC call when one of its messages breaks a limit.
    var grpcCallError: RPCError {
        switch self {
        case .messageTooLarge, .decompressedTooLarge, .decompressionRatio, .metadataTooLarge:
            RPCError(.resourceExhausted, description)
        default:
            RPCError(.internal, description)
        }
    }
}
