import ConveneRPC
import ConveneWire
import Logging
import NIOCore

/// Events the server sends down a connection's pipeline.
public enum ServerConnectionEvent: Sendable {
    /// Stop accepting calls: send GOAWAY, finish in-flight calls, then close.
    case drain
}

/// Serves the Convene protocol on one connection.
///
/// Everything here runs on the connection's event loop. All frames of one read are
/// decoded in a loop; synchronous unary handlers answer inline; the frames written while
/// handling a read go out in one write and one flush at `channelReadComplete`.
/// Asynchronous handlers run as tasks and hop back here to write.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        case awaitingPreface
        case awaitingSettings
        case active
        case draining
        case closed
    }

    let router: Router
    let configuration: ConnectionConfiguration
    var logger: Logger
    private(set) var state = State.awaitingPreface
    /// The peer's limits on what we send; defaults until its SETTINGS arrive.
    var peerSettings = Settings()
    let parser: FrameParser
    private var inbound = InboundBuffer()
    var output: FrameOutput
    var streams: [UInt32: ServerStream] = [:]
    private var lastStreamID: UInt32 = 0
    var context: ChannelHandlerContext!
    private var inReadBatch = false
    /// Calls opened in the current read batch whose deadline timer is not armed yet.
    private var timersDue: [UInt32] = []
    private var flushScheduled = false
    private var handshakeTimer: Scheduled<Void>?
    private var keepaliveTask: RepeatedTask?
    private var lastReceived = NIODeadline.now()
    private var pingSentAt: NIODeadline?
    private var parkedCompletions: [CheckedContinuation<Void, any Error>] = []
    /// Why this connection is refused as soon as it starts (too many connections).
    private let refusal: String?
    private var lastActivity = NIODeadline.now()
    private var partialFrameSince: NIODeadline?
    private var lastPingReceived: NIODeadline?
    private var pingStrikes = 0
    private var guardTask: RepeatedTask?
    private var started = false
    private var peer = "unknown"
    let allocator: ByteBufferAllocator

    init(router: Router, configuration: ConnectionConfiguration, logger: Logger,
         allocator: ByteBufferAllocator = ByteBufferAllocator(), refusal: String? = nil) {
        self.refusal = refusal
        self.router = router
        self.configuration = configuration
        self.logger = logger
        self.parser = FrameParser(limits: configuration.settings)
        self.allocator = allocator
        self.output = FrameOutput(allocator: allocator)
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

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        peer = context.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        logger[metadataKey: "peer"] = "\(peer)"
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        if let refusal {
            // Refused before a byte is read: preface and GOAWAY OVERLOADED, then close.
            return closeWithGoAway(.overloaded, refusal)
        }
        // Idle connections and dribbled frames are checked a few times per period.
        let period = min(configuration.idleTimeout ?? configuration.frameTimeout, configuration.frameTimeout)
        let tick = max(period.nanoseconds / 4, 10_000_000)
        guardTask = context.eventLoop.scheduleRepeatedTask(initialDelay: .nanoseconds(tick), delay: .nanoseconds(tick)) { _ in
            loopBound.value.checkTimeouts()
        }
        handshakeTimer = context.eventLoop.scheduleTask(in: .nanoseconds(configuration.handshakeTimeout.nanoseconds)) {
            let handler = loopBound.value
            if handler.state == .awaitingPreface || handler.state == .awaitingSettings {
                handler.closeWithGoAway(.timeout, "no preface and SETTINGS within \(handler.configuration.handshakeTimeout)")
            }
        }
        if let interval = configuration.keepaliveInterval {
            let ns = interval.nanoseconds
            keepaliveTask = context.eventLoop.scheduleRepeatedTask(initialDelay: .nanoseconds(ns), delay: .nanoseconds(ns)) { _ in
                loopBound.value.keepaliveTick()
            }
        }
    }

    /// The context holds this handler and this handler the context: letting go of it here
    /// is what frees both once the connection is gone.
    func handlerRemoved(context: ChannelHandlerContext) {
        state = .closed
        handshakeTimer?.cancel()
        keepaliveTask?.cancel()
        guardTask?.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        handshakeTimer?.cancel()
        keepaliveTask?.cancel()
        guardTask?.cancel()
        let error = RPCError(.unavailable, "connection closed")
        for stream in streams.values { abort(stream, error) }
        streams.removeAll()
        resumeParked()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard state != .closed else { return }
        lastReceived = .now()
        inReadBatch = true
        var buffer = inbound.appending(&bytes)
        process(&buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBatch = false
        armDueDeadlines()
        context.writeAndFlush(output.take())
        closeIfDrained()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resumeParked() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ServerConnectionEvent, case .drain = event {
            drain()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Decoding

    private func process(_ buffer: inout ByteBuffer) {
        do {
            if state == .awaitingPreface {
                guard let preface = try buffer.readPreface() else { return stash(buffer) }
                writePrefaceOnce()
                guard preface.major == Preface.current.major else {
                    return closeWithGoAway(.unsupportedVersion,
                        "this server speaks protocol \(Preface.current.major).\(Preface.current.minor); the client offered \(preface.major).\(preface.minor)")
                }
                output.withBuffer { $0.writeFrame(.settings(configuration.settings)) }
                state = .awaitingSettings
            }
            while state != .closed, let frame = try parser.next(from: &buffer) {
                try handle(frame)
            }
            if state != .closed { stash(buffer) }
        } catch let error as WireError {
            logger.debug("protocol error", metadata: ["error": "\(error)"])
            closeWithGoAway(error == .badPreface ? .protocolError : error.goAwayCode, error.description)
        } catch {
            closeWithGoAway(.internalError, "internal error")
        }
    }

    private func stash(_ buffer: ByteBuffer) {
        inbound.keep(buffer)
        if buffer.readableBytes == 0 {
            partialFrameSince = nil
        } else if partialFrameSince == nil {
            partialFrameSince = .now()
        }
    }

    /// Closes a connection idle for too long, or one that leaves a frame incomplete too long.
    private func checkTimeouts() {
        guard state == .active || state == .awaitingSettings || state == .draining else { return }
        let now = NIODeadline.now()
        if let since = partialFrameSince, now - since >= .nanoseconds(configuration.frameTimeout.nanoseconds) {
            return closeWithGoAway(.timeout, "a frame stayed incomplete for over \(configuration.frameTimeout)")
        }
        if let idle = configuration.idleTimeout, streams.isEmpty, now - lastActivity >= .nanoseconds(idle.nanoseconds) {
            return closeWithGoAway(.timeout, "no call for \(idle); closing the idle connection")
        }
    }

    private func handle(_ frame: Frame) throws {
        if state == .awaitingSettings {
            guard case .settings = frame else {
                throw WireError.malformed(frame.type, "the first frame after the preface must be SETTINGS")
            }
        }
        switch frame {
        case .settings(let settings):
            if state == .awaitingSettings {
                state = .active
                handshakeTimer?.cancel()
            }
            peerSettings = settings
            output.withBuffer { $0.writeFrame(.settingsAck) }
        case .settingsAck:
            break
        case .ping(let opaque, let ack):
            if ack {
                pingSentAt = nil
            } else {
                // Ping strikes: PINGs closer together than the minimum interval.
                let now = NIODeadline.now()
                if let last = lastPingReceived, now - last < .nanoseconds(configuration.minPingInterval.nanoseconds) {
                    pingStrikes += 1
                    if pingStrikes > configuration.maxPingStrikes {
                        return closeWithGoAway(.enhanceYourCalm,
                            "too many pings: more than \(configuration.maxPingStrikes) less than \(configuration.minPingInterval) apart")
                    }
                } else {
                    pingStrikes = 0
                }
                lastPingReceived = now
                output.withBuffer { $0.writeFrame(.ping(opaque, ack: true)) }
            }
        case .goAway:
            // The client will open no more calls; close once the open ones finish.
            if state == .active { state = .draining }
        case .call(let id, let start):
            try openStream(id: id, start: start)
        case .data(let id, let payload, let endStream):
            try receiveData(streamID: id, payload: payload, endStream: endStream)
        case .cancel(let id, _):
            if let stream = streams.removeValue(forKey: id) {
                abort(stream, RPCError(.cancelled, "call cancelled by the client"))
                stream.send.failAll(RPCError(.cancelled, "call cancelled by the client"))
            }
        case .windowUpdate(let id, let increment):
            guard let stream = streams[id] else {
                if id > lastStreamID { throw WireError.badStreamID(.windowUpdate, id) }
                return
            }
            guard stream.send.window + Int(increment) <= Int(Settings.maxWindowSize) else {
                return closeWithGoAway(.flowControlError, "WINDOW_UPDATE overflows the window of stream \(id)")
            }
            stream.send.window += Int(increment)
            drainSend(stream)
        case .headers, .end:
            throw WireError.malformed(frame.type, "only a server sends \(frame.type)")
        }
    }

    // MARK: - Calls

    private func openStream(id: UInt32, start: CallStart) throws {
        guard id > lastStreamID else {
            throw WireError.malformed(.call, "stream id \(id) is not above the last one (\(lastStreamID))")
        }
        lastStreamID = id
        lastActivity = .now()
        guard state == .active else { return }  // draining: not accepted, safe for the client to retry
        guard streams.count < Int(configuration.settings.maxConcurrentStreams) else {
            return writeEnd(streamID: id, RPCError(.resourceExhausted,
                "too many concurrent calls: MAX_CONCURRENT_STREAMS is \(configuration.settings.maxConcurrentStreams)"))
        }
        let method: RegisteredMethod
        switch router.lookup(path: start.path) {
        case .found(let found): method = found
        case .unimplemented(let error): return writeEnd(streamID: id, error)
        }
        let encoding: MessageEncoding = start.responseEncoding != .identity
            && peerSettings.acceptEncodings.contains(start.responseEncoding)
            && configuration.settings.acceptEncodings.contains(start.responseEncoding) ? start.responseEncoding : .identity
        let stream = ServerStream(id: id, method: method, start: start, responseEncoding: encoding,
                                  local: configuration.settings, peer: peerSettings)
        streams[id] = stream
        if start.timeoutMicros > 0 {
            // A call answered within this read batch (a synchronous unary call whose DATA came
            // with its CALL) never needs its timer: arm deadlines at the end of the batch.
            if inReadBatch { timersDue.append(id) } else { armDeadline(stream) }
        }
        if case .asynchronous(let body) = method.handler { startTask(stream, body) }
    }

    private func receiveData(streamID id: UInt32, payload: ByteBuffer, endStream: Bool) throws {
        guard let stream = streams[id] else {
            // Data for a call that already ended (answered, refused or cancelled) is dropped.
            if id > lastStreamID { throw WireError.badStreamID(.data, id) }
            return
        }
        guard !stream.requestClosed else {
            return fail(stream, RPCError(.internal, "DATA after the client ended the stream"))
        }
        guard stream.receive.receive(payload.readableBytes) else {
            return closeWithGoAway(.flowControlError, "stream \(id) sent past its flow-control window")
        }
        stream.deframer.append(payload)
        do {
            while let framed = try stream.deframer.next() {
                let message = try framed.decoded(settings: configuration.settings,
                                                  maxRatio: configuration.maxDecompressionRatio, allocator: allocator)
                stream.messagesReceived += 1
                if !stream.method.descriptor.kind.clientStreams && stream.messagesReceived > 1 {
                    throw RPCError(.internal, "\(stream.method.descriptor.kind) method \(stream.method.descriptor.path) received more than one request message")
                }
                if stream.isSynchronous {
                    stream.unaryRequest = message
                    stream.unaryRequestEncoding = framed.encoding
                } else {
                    stream.requests?.yield(message)
                    stream.receive.messageDelivered(wireSize: MessagePrefix.size + framed.bytes.readableBytes)
                }
            }
        } catch let error as WireError {
            return fail(stream, error.callError)
        } catch {
            return fail(stream, RPCError.from(error))
        }
        if let credit = stream.receive.partialBuffered(stream.deframer.bufferedBytes) {
            output.withBuffer { $0.writeFrame(.windowUpdate(streamID: id, increment: credit)) }
        }
        if endStream {
            stream.requestClosed = true
            if stream.deframer.bufferedBytes > 0 {
                return fail(stream, RPCError(.internal, "stream ended inside a message (\(stream.deframer.bufferedBytes) bytes of it)"))
            }
            switch stream.method.handler {
            case .synchronousUnary(let body): runSynchronous(stream, body)
            case .deferredUnary(let body): runDeferred(stream, body)
            case .asynchronous: stream.requests?.finish()
            }
        }
    }

    private func runSynchronous(_ stream: ServerStream,
                                _ body: (ByteBuffer, inout UnaryContext) throws -> ByteBuffer) {
        guard let request = stream.unaryRequest else {
            return fail(stream, RPCError(.internal, "unary call ended without a request message"))
        }
        var unary = UnaryContext(method: stream.method.descriptor, requestMetadata: stream.metadata,
                                 deadline: stream.deadline, peer: peer, allocator: allocator)
        unary.requestEncoding = stream.unaryRequestEncoding
        do {
            let response = try body(request, &unary)
            if !unary.responseHeaders.isEmpty {
                stream.headersSent = true
                output.withBuffer { $0.writeHeadersFrame(streamID: stream.id, unary.responseHeaders) }
            }
            guard response.readableBytes <= Int(peerSettings.maxMessageSize) else {
                return fail(stream, RPCError(.resourceExhausted,
                    "response of \(response.readableBytes) bytes is over the client's max message size \(peerSettings.maxMessageSize)"))
            }
            respond(stream, response, compress: unary.compressResponse, trailers: unary.responseTrailers)
        } catch {
            fail(stream, RPCError.from(error))
        }
    }

    /// Queues a unary call's response and its END (OK).
    private func respond(_ stream: ServerStream, _ response: ByteBuffer, compress: Bool, trailers: Metadata) {
        let compressed = compress && stream.responseEncoding == .deflate
        let bytes = compressed ? MessageCompression.deflate(response, allocator: allocator) : response
        stream.send.queue.append(OutboundMessage(encoding: compressed ? .deflate : .identity, payload: bytes,
                                                 endStream: false, completion: nil))
        finish(stream, CallEnd(code: .ok, message: "", trailers: trailers))
    }

    private func runDeferred(_ stream: ServerStream,
                             _ body: (ByteBuffer, ServerCallContext, any UnaryCompletion) -> Void) {
        guard let request = stream.unaryRequest, let context else {
            return fail(stream, RPCError(.internal, "unary call ended without a request message"))
        }
        let completion = DeferredCompletion(handler: NIOLoopBound(self, eventLoop: context.eventLoop), streamID: stream.id)
        stream.deferred = completion
        body(request, ServerCallContext(method: stream.method.descriptor, requestMetadata: stream.metadata,
                                        deadline: stream.deadline, peer: peer), completion)
    }

    /// A deferred unary call's answer, on the event loop.
    func deferredFinished(streamID id: UInt32, _ result: Result<ByteBuffer, any Error>) {
        guard let stream = streams[id], stream.deferred != nil else { return }
        stream.deferred = nil
        switch result {
        case .success(let response):
            guard response.readableBytes <= Int(peerSettings.maxMessageSize) else {
                return fail(stream, RPCError(.resourceExhausted,
                    "response of \(response.readableBytes) bytes is over the client's max message size \(peerSettings.maxMessageSize)"))
            }
            respond(stream, response, compress: true, trailers: Metadata())
        case .failure(let error):
            fail(stream, RPCError.from(error))
        }
    }

    private func startTask(_ stream: ServerStream,
                           _ body: @escaping @Sendable (RequestStream, any ResponseWriter, ServerCallContext) async throws -> Void) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let id = stream.id
        let eventLoop = context.eventLoop
        let (requestStream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        stream.requests = continuation
        let requests = RequestStream(requestStream, onConsumed: { _ in
            eventLoop.execute { loopBound.value.requestConsumed(streamID: id) }
        })
        let writer = ServerResponseWriter(handler: loopBound, streamID: id,
                                          responseEncoding: stream.responseEncoding, allocator: allocator)
        let callContext = ServerCallContext(method: stream.method.descriptor, requestMetadata: stream.metadata,
                                            deadline: stream.deadline, peer: peer)
        stream.task = Task {
            let result: Result<Void, any Error>
            do {
                try await body(requests, writer, callContext)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            eventLoop.execute { loopBound.value.handlerFinished(streamID: id, result) }
        }
    }

    // MARK: - Called from handler tasks (on the event loop)

    func requestConsumed(streamID id: UInt32) {
        guard let stream = streams[id], let credit = stream.receive.consumedOne() else { return }
        output.withBuffer { $0.writeFrame(.windowUpdate(streamID: id, increment: credit)) }
        scheduleFlush()
    }

    func sendHeaders(streamID id: UInt32, _ metadata: Metadata, completion: CheckedContinuation<Void, any Error>) {
        guard let stream = streams[id] else {
            return completion.resume(throwing: RPCError(.cancelled, "the call has ended"))
        }
        guard !stream.headersSent else {
            return completion.resume(throwing: RPCError(.internal, "headers were already sent"))
        }
        stream.headersSent = true
        output.withBuffer { $0.writeHeadersFrame(streamID: id, metadata) }
        scheduleFlush()
        completion.resume()
    }

    func enqueue(streamID id: UInt32, _ bytes: ByteBuffer, encoding: MessageEncoding, uncompressedSize: Int,
                 completion: CheckedContinuation<Void, any Error>) {
        guard let stream = streams[id], stream.pendingEnd == nil else {
            return completion.resume(throwing: RPCError(.cancelled, "the call has ended"))
        }
        guard uncompressedSize <= Int(peerSettings.maxMessageSize) else {
            return completion.resume(throwing: RPCError(.resourceExhausted,
                "response of \(uncompressedSize) bytes is over the client's max message size \(peerSettings.maxMessageSize)"))
        }
        stream.headersSent = true
        stream.send.queue.append(OutboundMessage(encoding: encoding, payload: bytes, endStream: false, completion: completion))
        drainSend(stream)
    }

    func setTrailers(streamID id: UInt32, _ metadata: Metadata) {
        streams[id]?.trailers = metadata
    }

    func handlerFinished(streamID id: UInt32, _ result: Result<Void, any Error>) {
        guard let stream = streams[id] else { return }
        stream.requests?.finish()
        switch result {
        case .success:
            finish(stream, CallEnd(code: .ok, message: "", trailers: stream.trailers))
        case .failure(let error):
            fail(stream, RPCError.from(error))
        }
    }

    private func armDeadline(_ stream: ServerStream) {
        guard stream.timer == nil, let deadline = stream.deadline, let context else { return }
        let remaining = max(0, (deadline - ContinuousClock.now).nanoseconds)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let id = stream.id
        stream.timer = context.eventLoop.scheduleTask(in: .nanoseconds(remaining)) {
            loopBound.value.deadlineExpired(streamID: id)
        }
    }

    /// Arms the deadlines of the calls opened in this read batch that are still open.
    private func armDueDeadlines() {
        guard !timersDue.isEmpty else { return }
        for id in timersDue { if let stream = streams[id] { armDeadline(stream) } }
        timersDue.removeAll(keepingCapacity: true)
    }

    func deadlineExpired(streamID id: UInt32) {
        guard let stream = streams[id] else { return }
        stream.timer = nil
        fail(stream, RPCError(.deadlineExceeded, "deadline exceeded (timeout was \(stream.timeoutMicros / 1000) ms)"))
    }

    // MARK: - Writing

    /// Sends what flow control allows of the stream's queue, then its END once the queue is empty.
    private func drainSend(_ stream: ServerStream) {
        var finished: [CheckedContinuation<Void, any Error>] = []
        stream.send.drain(streamID: stream.id, maxFrameSize: Int(peerSettings.maxFrameSize), output: &output,
                          finished: &finished)
        if !finished.isEmpty {
            if context?.channel.isWritable ?? true {
                for c in finished { c.resume() }
            } else {
                parkedCompletions.append(contentsOf: finished)
            }
        }
        if stream.send.isIdle, let end = stream.pendingEnd {
            writeEnd(streamID: stream.id, end)
            close(stream)
        }
        scheduleFlush()
    }

    /// Ends the call with `end` after any queued messages.
    private func finish(_ stream: ServerStream, _ end: CallEnd) {
        stream.pendingEnd = end
        drainSend(stream)
    }

    /// Ends the call now with an error, dropping queued messages.
    private func fail(_ stream: ServerStream, _ error: RPCError) {
        streams[stream.id] = nil
        lastActivity = .now()
        abort(stream, error)
        stream.send.failAll(error)
        writeEnd(streamID: stream.id, error)
        scheduleFlush()
        closeIfDrained()
    }

    private func close(_ stream: ServerStream) {
        streams[stream.id] = nil
        lastActivity = .now()
        stream.timer?.cancel()
        stream.requests?.finish()
        closeIfDrained()
    }

    /// Stops the handler's task and request stream, without writing anything.
    private func abort(_ stream: ServerStream, _ error: RPCError) {
        stream.timer?.cancel()
        stream.requests?.finish(throwing: error)
        stream.task?.cancel()
        stream.deferred?.cancel()
        stream.deferred = nil
    }

    private func writeEnd(streamID id: UInt32, _ error: RPCError) {
        writeEnd(streamID: id, CallEnd(code: error.code, message: error.message, trailers: error.metadata))
    }

    private func writeEnd(streamID id: UInt32, _ end: CallEnd) {
        output.withBuffer { $0.writeEndFrame(streamID: id, end) }
        scheduleFlush()
    }

    private func scheduleFlush() {
        guard !inReadBatch, !flushScheduled, state != .closed, let context else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            handler.flushScheduled = false
            guard handler.state != .closed else { return }
            handler.context?.writeAndFlush(handler.output.take())
            handler.closeIfDrained()
        }
    }

    private func resumeParked() {
        let parked = parkedCompletions
        parkedCompletions = []
        if state == .closed {
            for c in parked { c.resume(throwing: RPCError(.unavailable, "connection closed")) }
        } else {
            for c in parked { c.resume() }
        }
    }

    // MARK: - Connection lifecycle

    private func drain() {
        guard state == .active || state == .awaitingSettings || state == .awaitingPreface else { return }
        if state == .awaitingPreface {
            return closeWithGoAway(.noError, "server is shutting down")
        }
        state = .draining
        output.withBuffer {
            $0.writeFrame(.goAway(GoAway(lastStreamID: lastStreamID, code: .noError, message: "server is shutting down")))
        }
        scheduleFlush()
        closeIfDrained()
    }

    private func closeIfDrained() {
        guard state == .draining, streams.isEmpty, !flushScheduled else { return }
        state = .closed
        context?.writeAndFlush(output.take())
        context?.close(promise: nil)
    }

    /// Our preface goes out once, before any frame, even when the first frame is a refusal.
    private var prefaceSent = false
    private func writePrefaceOnce() {
        guard !prefaceSent else { return }
        prefaceSent = true
        output.withBuffer { $0.writePreface(.current) }
    }

    func closeWithGoAway(_ code: GoAwayCode, _ message: String) {
        guard state != .closed else { return }
        writePrefaceOnce()
        logger.debug("closing connection", metadata: ["code": "\(code)", "reason": "\(message)"])
        output.withBuffer { $0.writeFrame(.goAway(GoAway(lastStreamID: lastStreamID, code: code, message: message))) }
        context?.writeAndFlush(output.take())
        state = .closed
        let error = RPCError(.unavailable, "connection closed: \(message)")
        for stream in streams.values { abort(stream, error); stream.send.failAll(error) }
        streams.removeAll()
        context?.close(promise: nil)
    }

    private func keepaliveTick() {
        guard state == .active || state == .draining else { return }
        let now = NIODeadline.now()
        if let sent = pingSentAt {
            if now - sent >= .nanoseconds(configuration.keepaliveTimeout.nanoseconds) {
                closeWithGoAway(.timeout, "keepalive ping not answered within \(configuration.keepaliveTimeout)")
            }
            return
        }
        guard let interval = configuration.keepaliveInterval,
              now - lastReceived >= .nanoseconds(interval.nanoseconds) else { return }
        pingSentAt = now
        output.withBuffer { $0.writeFrame(.ping(UInt64(now.uptimeNanoseconds), ack: false)) }
        scheduleFlush()
    }
}
