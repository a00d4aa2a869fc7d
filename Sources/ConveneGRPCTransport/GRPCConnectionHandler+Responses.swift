import ConveneRPC
import ConveneTransport
import ConveneWire
import NIOCore
import NIOHPACK
import NIOHTTP2

/// Handlers of a gRPC connection and what they send: synchronous ones inline, asynchronous
/// ones as tasks that hop back to the event loop; responses, trailers, refusals.
extension GRPCConnectionHandler {
    // MARK: - Handlers

    /// Runs a unary call whose request is whole: inline, or started on the handler's own
    /// threads (deferred).
    func runSynchronous(_ stream: GRPCServerStream) {
        let body: @Sendable (ByteBuffer, inout UnaryContext) throws -> ByteBuffer
        switch stream.method.handler {
        case .synchronousUnary(let synchronous): body = synchronous
        case .deferredUnary(let deferred): return runDeferred(stream, deferred)
        case .asynchronous: return
        }
        guard let request = stream.unaryRequest else {
            return fail(stream, RPCError(.internal, "unary call ended without a request message"))
        }
        stream.unaryRequest = nil
        // The request is taken: its bytes leave the connection window.
        messageTaken(stream)
        // A deadline that passed before the call's turn came (a tiny grpc-timeout, or one
        // spent waiting behind other calls): the method does not run.
        if let deadline = stream.deadline, MonotonicInstant.now >= deadline {
            return fail(stream, RPCError(.deadlineExceeded, "deadline exceeded: it passed before the call could run"))
        }
        var unary = UnaryContext(method: stream.method.descriptor, requestMetadata: stream.head.metadata,
                                 deadline: stream.deadline?.continuousInstant, peer: peer, allocator: allocator)
        unary.requestEncoding = stream.unaryRequestEncoding
        do {
            let response = try body(request, &unary)
            respond(stream, response, headers: unary.responseHeaders, trailers: unary.responseTrailers,
                    compression: unary.responseCompression)
        } catch {
            fail(stream, RPCError.from(error))
        }
    }

    /// A unary call's response: its headers, the message, and OK.
    func respond(_ stream: GRPCServerStream, _ response: ByteBuffer, headers: Metadata, trailers: Metadata,
                 compression: ResponseCompression) {
        let encoding = stream.head.responseEncoding(for: compression)
        writeResponseHeaders(stream, headers, announcing: encoding)
        let message = encoding.map { $0.compress(response, allocator: allocator) } ?? response
        // A large answer is counted until it is on the socket; a small one costs nothing extra.
        let counted = message.readableBytes >= Self.countedResponseSize
        writeFramed(stream, message, compressed: encoding != nil, promise: counted ? countedWrite(stream, message) : nil)
        finish(stream, CallEnd(code: .ok, trailers: trailers))
    }

    /// Starts a deferred unary call; its answer comes back to the event loop (`deferredFinished`).
    /// Such handlers bound their own work (the plugin host's runners), so no task is counted.
    private func runDeferred(_ stream: GRPCServerStream, _ body: (ByteBuffer, ServerCallContext, any UnaryCompletion) -> Void) {
        guard let request = stream.unaryRequest, let context else {
            return fail(stream, RPCError(.internal, "unary call ended without a request message"))
        }
        stream.unaryRequest = nil
        messageTaken(stream)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let id = stream.id
        let completion = DeferredCompletion { result in
            loopBound.eventLoop.execute { loopBound.value.deferredFinished(id, result) }
        }
        stream.deferred = completion
        body(request, ServerCallContext(method: stream.method.descriptor, requestMetadata: stream.head.metadata,
                                        deadline: stream.deadline?.continuousInstant, peer: peer), completion)
    }

    /// A deferred unary call's answer, on the event loop; dropped when the call has ended.
    private func deferredFinished(_ id: HTTP2StreamID, _ result: Result<ByteBuffer, any Error>) {
        guard let stream = streams[id], stream.deferred != nil else { return }
        stream.deferred = nil
        switch result {
        case .success(let response):
            respond(stream, response, headers: Metadata(), trailers: Metadata(), compression: .whenNegotiated)
        case .failure(let error):
            fail(stream, RPCError.from(error))
        }
    }

    /// Responses at least this large are counted against the outbound allowance.
    static let countedResponseSize = 16 * 1024

    func startTask(_ stream: GRPCServerStream,
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
                                            deadline: stream.deadline?.continuousInstant, peer: peer)
        let launch: @Sendable () async -> Void = {
            let result = await MethodHandler.run(body, requests: requests, writer: writer, context: callContext)
            eventLoop.execute { loopBound.value.handlerFinished(id, result) }
        }
        runningTasks += 1
        if inReadBatch {
            // Started at the end of the read, unless reset first (a rapid-reset flood then
            // creates no task at all).
            stream.launch = launch
            launchesDue.append(id)
        } else {
            stream.task = Task { await launch() }
        }
    }

    /// Starts the tasks of the calls this read opened that are still open; a call reset in
    /// the same read never had a task.
    func launchDueTasks() {
        guard !launchesDue.isEmpty else { return }
        for id in launchesDue {
            guard let stream = streams[id], let launch = stream.launch else {
                runningTasks -= 1
                continue
            }
            stream.launch = nil
            stream.task = Task { await launch() }
        }
        launchesDue.removeAll(keepingCapacity: true)
    }

    // MARK: - Called from handler tasks, on the event loop

    func requestConsumed(_ id: HTTP2StreamID) {
        guard let stream = streams[id] else { return }
        messageTaken(stream)
        scheduleFlush()
    }

    func sendHeaders(_ id: HTTP2StreamID, _ metadata: Metadata) throws {
        guard let stream = streams[id] else { throw RPCError(.cancelled, "the call has ended") }
        guard !stream.headersSent else { throw RPCError(.internal, "headers were already sent") }
        writeResponseHeaders(stream, metadata, announcing: stream.head.responseEncoding)
        scheduleFlush()
    }

    func send(_ id: HTTP2StreamID, _ message: ByteBuffer, compressed: Bool, completion: CheckedContinuation<Void, any Error>) {
        guard let stream = streams[id], context != nil else {
            return completion.resume(throwing: RPCError(.cancelled, "the call has ended"))
        }
        // Under memory pressure a connection holding much gets no more queued for it.
        guard stream.unflushedBytes == 0 || account.admits(message.readableBytes) else {
            return completion.resume(throwing: RPCError(.resourceExhausted, account.budget?.refusalMessage ?? ""))
        }
        writeResponseHeaders(stream, Metadata(), announcing: stream.head.responseEncoding)
        stream.lastProgress = .now()
        writeFramed(stream, message, compressed: compressed, promise: countedWrite(stream, message))
        scheduleFlush()
        if stream.unflushedBytes <= configuration.streamOutboundAllowance {
            completion.resume()
        } else {
            stream.parkedSend = completion
        }
    }

    /// A write promise that keeps `message` counted (on its stream, the connection and the
    /// budget) until it is on the socket.
    private func countedWrite(_ stream: GRPCServerStream, _ message: ByteBuffer) -> EventLoopPromise<Void>? {
        guard let context else { return nil }
        let promise = context.eventLoop.makePromise(of: Void.self)
        let size = MessagePrefix.size + message.readableBytes
        stream.unflushedBytes += size
        outboundBytes += size
        account.charge(size)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let id = stream.id
        promise.futureResult.whenComplete { _ in loopBound.value.written(id, size) }
        return promise
    }

    private func written(_ id: HTTP2StreamID, _ size: Int) {
        outboundBytes -= size
        if !isClosed { account.release(size) }
        if let stream = streams[id] {
            stream.unflushedBytes -= size
            if stream.unflushedBytes <= configuration.streamOutboundAllowance, let parked = stream.parkedSend {
                stream.parkedSend = nil
                parked.resume()
            }
        }
        outboundDrained()
    }

    func setTrailers(_ id: HTTP2StreamID, _ metadata: Metadata) {
        streams[id]?.trailers = metadata
    }

    func handlerFinished(_ id: HTTP2StreamID, _ result: Result<Void, any Error>) {
        runningTasks -= 1
        guard let stream = streams[id] else { return }
        switch result {
        case .success: finish(stream, CallEnd(code: .ok, trailers: stream.trailers))
        case .failure(let error): fail(stream, RPCError.from(error))
        }
    }

    // MARK: - Responses

    /// The response headers, once; `announcing` the encoding that messages may be compressed with.
    func writeResponseHeaders(_ stream: GRPCServerStream, _ metadata: Metadata, announcing encoding: GRPCEncoding?) {
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
    func finish(_ stream: GRPCServerStream, _ end: CallEnd) {
        streams[stream.id] = nil
        stream.ended(end.code)
        releaseWindow(stream)
        stream.requests?.finish()
        stream.deferred?.cancel()
        stream.deferred = nil
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

    func fail(_ stream: GRPCServerStream, _ error: RPCError) {
        stream.task?.cancel()
        stream.requests?.finish(throwing: error)
        finish(stream, CallEnd(code: error.code, message: error.message, trailers: error.metadata))
    }

    /// A request refused before any handler ran: trailers-only (with a non-200 status where
    /// HTTP itself is wrong).
    func refuse(_ id: HTTP2StreamID, httpStatus: Int, _ error: RPCError, requestOpen: Bool) {
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
    func abort(_ stream: GRPCServerStream, _ error: RPCError) {
        if !isClosed { releaseWindow(stream) }
        stream.ended(error.code)
        stream.requests?.finish(throwing: error)
        stream.task?.cancel()
        stream.deferred?.cancel()
        stream.deferred = nil
        if let parked = stream.parkedSend {
            stream.parkedSend = nil
            parked.resume(throwing: error)
        }
    }

    // MARK: - Writing

    func write(_ frame: HTTP2Frame, promise: EventLoopPromise<Void>? = nil) {
        guard let context, !isClosed else {
            promise?.fail(RPCError(.unavailable, "connection closed"))
            return
        }
        wroteSinceFlush = true
        // swift-nio-http2 cuts a DATA frame into frames of the peer's MAX_FRAME_SIZE (16 KiB
        // unless it asked for more), each of which a client may give credit back for.
        if case .data(let data) = frame.payload { tally.dataFramesWritten += max(1, (data.data.readableBytes + 16_383) / 16_384) }
        resets.writingOwn { context.write(wrapOutboundOut(frame), promise: promise) }
    }

    func flushNow() {
        guard wroteSinceFlush, let context else { return }
        wroteSinceFlush = false
        context.flush()
    }

    /// Outside a read batch, writes from several tasks in one event-loop tick share a flush.
    func scheduleFlush() {
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
        case .messageTooLarge, .decompressedTooLarge, .decompressionRatio, .metadataTooLarge, .tooManyMetadataEntries:
            RPCError(.resourceExhausted, description)
        default:
            RPCError(.internal, description)
        }
    }
}
