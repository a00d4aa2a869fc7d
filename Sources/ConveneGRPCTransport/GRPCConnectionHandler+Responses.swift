import ConveneRPC
import ConveneWire
import NIOCore
import NIOHPACK
import NIOHTTP2

/// Responses: what handler tasks ask for (on the event loop), header blocks, messages and
/// the status that ends a call, and the writes and flushes.
extension GRPCConnectionHandler {
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

    func written(_ id: HTTP2StreamID, _ size: Int) {
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
    func writeFramed(_ stream: GRPCServerStream, _ message: ByteBuffer, compressed: Bool,
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
        stream.timer?.cancel()
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
        stream.ended(error.code)
        if !isClosed { releaseWindow(stream) }
        stream.timer?.cancel()
        stream.requests?.finish(throwing: error)
        stream.task?.cancel()
        stream.deferred?.cancel()
        stream.deferred = nil
        if let parked = stream.parkedSend {
            stream.parkedSend = nil
            parked.resume(throwing: error)
        }
    }

    func armDeadline(_ stream: GRPCServerStream) {
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

    func write(_ frame: HTTP2Frame, promise: EventLoopPromise<Void>? = nil) {
        guard let context, !isClosed else {
            promise?.fail(RPCError(.unavailable, "connection closed"))
            return
        }
        wroteSinceFlush = true
        context.write(wrapOutboundOut(frame), promise: promise)
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
        case .messageTooLarge, .decompressedTooLarge, .decompressionRatio, .metadataTooLarge:
            RPCError(.resourceExhausted, description)
        default:
            RPCError(.internal, description)
        }
    }
}
