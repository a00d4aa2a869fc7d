import ConveneRPC
import ConveneWire
import NIOCore

/// A call waiting for the server's MAX_CONCURRENT_STREAMS to allow it.
struct PendingOpen {
    let stream: ClientStream
    let path: String
    let options: CallOptions
    let request: ByteBuffer?
}

/// Calls on a client connection: opening (or queueing beyond the server's limit), sending
/// requests, taking responses, cancelling and ending.
extension ClientConnectionHandler {
    /// Opens a call: writes CALL, and for unary-request calls the request and END_STREAM too.
    /// Beyond the server's MAX_CONCURRENT_STREAMS the call waits for another to end.
    func open(_ stream: ClientStream, path: String, options: CallOptions, request: ByteBuffer?) {
        if stream.cancelledBeforeStart {
            return complete(stream, CallEnd(code: .cancelled, message: "call cancelled by the client"))
        }
        switch state {
        case .active:
            break
        case .goingAway(_, let reason), .closed(let reason):
            return fail(stream, notProcessed: reason)
        case .awaitingPreface, .awaitingSettings:
            return fail(stream, notProcessed: "connection is not ready")
        }
        if stream.timeoutMicros > 0, let context {
            let timeoutMillis = stream.timeoutMicros / 1000
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let streamBound = NIOLoopBound(stream, eventLoop: context.eventLoop)
            // A little after the server's own deadline, so its DEADLINE_EXCEEDED usually arrives first.
            stream.timer = context.eventLoop.scheduleTask(in: .microseconds(Int64(clamping: stream.timeoutMicros) + 20_000)) {
                loopBound.value.cancel(streamBound.value, code: .deadlineExceeded,
                                       message: "deadline exceeded (timeout was \(timeoutMillis) ms)")
            }
        }
        let pending = PendingOpen(stream: stream, path: path, options: options, request: request)
        if streams.count >= Int(peerSettings.maxConcurrentStreams) || !pendingOpens.isEmpty {
            pendingOpens.append(pending)
        } else {
            start(pending)
        }
    }

    private func start(_ pending: PendingOpen) {
        let stream = pending.stream
        guard nextStreamID <= 0x7FFF_FFFF else {
            return fail(stream, notProcessed: "stream ids exhausted on this connection")
        }
        // The server would close the connection over metadata it cannot take: refuse the one call.
        let metadata = pending.options.metadata
        guard metadata.count <= Int(Metadata.maxEntries), metadata.countedSize <= Int(peerSettings.maxMetadataSize) else {
            return complete(stream, CallEnd(code: .invalidArgument, message:
                "call metadata of \(metadata.count) entries counts \(metadata.countedSize) bytes, over the server's MAX_METADATA_SIZE \(peerSettings.maxMetadataSize) (or \(Metadata.maxEntries) entries)"))
        }
        stream.id = nextStreamID
        nextStreamID += 2
        streams[stream.id] = stream
        output.withBuffer {
            $0.writeCallFrame(streamID: stream.id, CallStart(path: pending.path, timeoutMicros: pending.options.timeoutMicros,
                                                              responseEncoding: pending.options.responseCompression,
                                                              metadata: pending.options.metadata))
        }
        if let request = pending.request {
            enqueue(stream, request, compress: true, endStream: true, completion: nil)
        }
        flushSoon()
    }

    private func startPending() {
        guard state == .active else { return }
        while streams.count < Int(peerSettings.maxConcurrentStreams), let next = pendingOpens.popFirst() {
            start(next)
        }
    }

    func fail(_ stream: ClientStream, notProcessed reason: String) {
        let error = CallNotProcessed(reason: reason)
        let end = CallEnd(code: .unavailable, message: error.description)
        stream.end = end
        switch stream.receiver {
        case .single(let c): c.resume(throwing: error)
        case .stream(let c): c.finish(throwing: error)
        case nil: break
        }
        stream.receiver = nil
        stream.headersPromise.fail(error)
        stream.endPromise.succeed(end)
    }

    // MARK: - Sending

    /// Queues a request message (or, with a `nil` message, a bare half-close).
    func enqueue(_ stream: ClientStream, _ message: ByteBuffer?, compress: Bool, endStream: Bool,
                 completion: SendCompletion?) {
        guard stream.id != 0, !stream.isEnded, streams[stream.id] != nil else {
            // Half-closing a call the server has already ended leaves nothing to close: the
            // call's status comes with its responses, as it does for any other call.
            if message == nil, endStream, stream.isEnded { completion?.resume(); return }
            completion?.resume(throwing: RPCError(stream.end?.code == .ok ? .internal : stream.end?.code ?? .cancelled,
                                                  "cannot send: the call has ended"))
            return
        }
        let outbound: OutboundMessage<SendCompletion>
        if var payload = message {
            guard payload.readableBytes <= peerSettings.sendableMessageSize else {
                completion?.resume(throwing: RPCError(.resourceExhausted,
                    "request of \(payload.readableBytes) bytes is over the server's max message size \(peerSettings.sendableMessageSize)"))
                return
            }
            var encoding = MessageEncoding.identity
            if compress, stream.requestEncoding == .deflate, peerSettings.acceptEncodings.contains(.deflate) {
                payload = MessageCompression.deflate(payload, allocator: allocator)
                encoding = .deflate
            }
            outbound = OutboundMessage(encoding: encoding, payload: payload, endStream: endStream, completion: completion)
        } else {
            outbound = .halfClose(completion: completion)
        }
        switch stream.send.send(outbound, streamID: stream.id, maxFrameSize: Int(peerSettings.maxFrameSize),
                                connection: &connectionSend, output: &output) {
        case .sent(let completed?): schedule.complete(completed, writable: context?.channel.isWritable ?? true)
        case .blockedOnConnection: connectionSend.block(stream.id)
        case .sent(nil), .waiting: break
        }
        flushSoon()
    }

    /// Sends what the windows now allow of the stream's queue; false when it still waits for
    /// room in the connection window (`retrying`: at the head of that line, where it stays).
    @discardableResult
    func sendQueued(_ stream: ClientStream, retrying: Bool = false) -> Bool {
        defer { flushSoon() }
        while true {
            switch stream.send.sendNext(streamID: stream.id, maxFrameSize: Int(peerSettings.maxFrameSize),
                                        connection: &connectionSend, output: &output, retrying: retrying) {
            case .sent(let completed):
                if let completed { schedule.complete(completed, writable: context?.channel.isWritable ?? true) }
            case .waiting:
                return true
            case .blockedOnConnection:
                if retrying { connectionSend.stillBlocked(stream.id) } else { connectionSend.block(stream.id) }
                return false
            }
        }
    }

    /// Calls waiting for room in the connection window go, oldest first, while they fit.
    func resumeBlocked() {
        while let id = connectionSend.nextBlocked() {
            guard let stream = streams[id] else { continue }
            if !sendQueued(stream, retrying: true) { break }
        }
    }

    /// The application took a response message: credit to give back, if due.
    func consumed(_ stream: ClientStream) {
        guard streams[stream.id] != nil else { return }
        let (credit, released) = stream.inbound.consumedOne()
        if let credit {
            output.withBuffer { $0.writeFrame(.windowUpdate(streamID: stream.id, increment: credit)) }
            flushSoon()
        }
        releaseInbound(released)
    }

    // MARK: - Ending

    /// Cancels a call: tells the server (CANCEL) and ends it locally with `code`.
    func cancel(_ stream: ClientStream, code: StatusCode = .cancelled, message: String = "call cancelled by the client") {
        if stream.id == 0 {
            if let index = pendingOpens.firstIndex(where: { $0.stream === stream }) {
                pendingOpens.remove(at: index)
                complete(stream, CallEnd(code: code, message: message))
            } else {
                stream.cancelledBeforeStart = true
            }
            return
        }
        guard streams[stream.id] != nil else { return }
        output.withBuffer { $0.writeFrame(.cancel(streamID: stream.id, code)) }
        flushSoon()
        complete(stream, CallEnd(code: code, message: message))
    }

    func abortStream(_ stream: ClientStream, _ error: RPCError) {
        cancel(stream, code: error.code, message: error.message)
    }

    /// Ends a call with `end`, resuming whoever waits on it.
    func complete(_ stream: ClientStream, _ end: CallEnd) {
        guard !stream.isEnded else { return }
        stream.end = end
        if stream.id != 0 { streams[stream.id] = nil }
        stream.timer?.cancel()
        releaseInbound(stream.inbound.releaseAll())
        let error = RPCError(end.code == .ok ? .internal : end.code, "the call has ended: \(end.message)")
        let hadReserved = stream.send.queuedBytes > 0
        for message in stream.send.removeAll(connection: &connectionSend) { message.completion?.resume(throwing: error) }
        if hadReserved { resumeBlocked() }
        stream.headersPromise.succeed(stream.headers ?? Metadata())
        switch stream.receiver {
        case .single(let continuation):
            if end.code != .ok {
                continuation.resume(throwing: RPCError(end.code, end.message, metadata: end.trailers))
            } else if let message = stream.message {
                continuation.resume(returning: UnaryResponse(message: message, headers: stream.headers ?? Metadata(),
                                                             trailers: end.trailers))
            } else {
                continuation.resume(throwing: RPCError(.internal, "server ended the call with OK but sent no response message"))
            }
        case .stream(let continuation):
            if end.code == .ok {
                continuation.finish()
            } else {
                continuation.finish(throwing: RPCError(end.code, end.message, metadata: end.trailers))
            }
        case nil:
            break
        }
        stream.receiver = nil
        stream.endPromise.succeed(end)
        startPending()
        closeIfDone()
    }
}
