import ConveneRPC
import ConveneWire
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2

/// Requests: a stream opened from its HEADERS, its DATA read into messages, flow-control
/// credit, and the handler run (inline, deferred to its own threads, or as a task).
extension GRPCConnectionHandler {
    // MARK: - Requests

    func open(_ id: HTTP2StreamID, _ frame: HTTP2Frame.FramePayload.Headers) {
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
            observer?.refused(.grpc, reason: .malformed)
            write(HTTP2Frame(streamID: id, payload: .rstStream(.protocolError)))
            return scheduleFlush()
        case .failure(.answer(let httpStatus, let error)):
            return refuse(id, httpStatus: httpStatus, error, requestOpen: !frame.endStream)
        }
        let method: RegisteredMethod
        switch router.lookup(path: head.path) {
        case .found(let found): method = found
        case .unimplemented(let error):
            router.instrumentation?.unknownMethodCalled(transport: .grpc)
            return refuse(id, httpStatus: 200, error, requestOpen: !frame.endStream)
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

    func receive(_ id: HTTP2StreamID, _ data: HTTP2Frame.FramePayload.Data) {
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

    func decode(_ framed: FramedMessage, of stream: GRPCServerStream) throws -> ByteBuffer {
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

    func endOfRequest(_ stream: GRPCServerStream) {
        guard !stream.requestClosed else { return }
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

    /// Credits a stream's and the connection's windows for every byte received except the
    /// messages queued for a task that has not taken them yet. Bytes of a message still
    /// incomplete are credited (they are bounded by the max message size), so a message
    /// larger than the window can arrive.
    func creditConsumed(_ stream: GRPCServerStream) {
        let bytes = stream.takeCreditable()
        guard bytes > 0 else { return }
        if !stream.requestClosed, let increment = stream.inbound.consumed(bytes) {
            write(HTTP2Frame(streamID: stream.id, payload: .windowUpdate(windowSizeIncrement: increment)))
        }
        creditConnection(bytes)
    }

    /// A call that ended gives back to the connection whatever it still held.
    func releaseWindow(_ stream: GRPCServerStream) {
        creditConnection(stream.takeAllUncredited())
    }

    func creditConnection(_ bytes: Int) {
        if let increment = connectionWindow.consumed(bytes) {
            write(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment)))
        }
    }

    // MARK: - Handlers

    func runSynchronous(_ stream: GRPCServerStream,
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
        if let encoding {
            writeFramed(stream, encoding.compress(response, allocator: allocator), compressed: true, promise: nil)
        } else {
            writeFramed(stream, response, compressed: false, promise: nil)
        }
        finish(stream, CallEnd(code: .ok, trailers: trailers))
    }

    func runDeferred(_ stream: GRPCServerStream, _ body: (ByteBuffer, ServerCallContext, any UnaryCompletion) -> Void) {
        guard let request = stream.unaryRequest, let context else {
            return fail(stream, RPCError(.internal, "unary call ended without a request message"))
        }
        stream.unaryRequest = nil
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let id = stream.id
        let completion = DeferredCompletion { result in
            loopBound.eventLoop.execute { loopBound.value.deferredFinished(id, result) }
        }
        stream.deferred = completion
        body(request, ServerCallContext(method: stream.method.descriptor, requestMetadata: stream.head.metadata,
                                        deadline: stream.deadline, peer: peer), completion)
    }

    /// A deferred unary call's answer, on the event loop; dropped when the call has ended.
    func deferredFinished(_ id: HTTP2StreamID, _ result: Result<ByteBuffer, any Error>) {
        guard let stream = streams[id], stream.deferred != nil else { return }
        stream.deferred = nil
        switch result {
        case .success(let response):
            respond(stream, response, headers: Metadata(), trailers: Metadata(), compression: .whenNegotiated)
        case .failure(let error):
            fail(stream, RPCError.from(error))
        }
    }

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
}
