import ConveneRPC
import ConveneWire
import NIOCore

/// What handlers send: a synchronous handler's result, an asynchronous handler's headers,
/// messages, trailers and end, and the credit for requests it has taken.
extension ServerConnectionStateMachine {
    /// A synchronous handler returned (it ran inline, during the read).
    mutating func synchronousHandlerReturned(streamID id: UInt32, _ result: Result<SynchronousResponse, any Error>,
                                             now: Instant) {
        defer { if !deferredSynchronous.isEmpty { runDeferredIfRoom() } }
        guard let stream = streams.removeValue(forKey: id) else { return }
        answer(stream, result, now: now)
    }

    /// Sends a synchronous or deferred handler's result on `stream` (moved, never copied).
    private mutating func answer(_ stream: consuming ServerStream<Completion>,
                                 _ result: Result<SynchronousResponse, any Error>, now: Instant) {
        let id = stream.id
        let response: SynchronousResponse
        switch result {
        case .success(let value): response = value
        case .failure(let error): return end(consume stream, RPCError.from(error), now: now)
        }
        if !response.headers.isEmpty {
            stream.headersSent = true
            output.withBuffer { $0.writeHeadersFrame(streamID: id, response.headers) }
        }
        let compress = response.compress && stream.responseEncoding == .deflate
        let bytes = compress ? MessageCompression.deflate(response.message, allocator: allocator) : response.message
        let size = max(response.message.readableBytes, bytes.readableBytes)
        guard size <= peerSettings.sendableMessageSize else {
            return fault(.responseTooLarge(id, size: size, limit: peerSettings.sendableMessageSize), on: consume stream, now: now)
        }
        stream.pendingEnd = CallEnd(code: .ok, message: "", trailers: response.trailers)
        send(OutboundMessage(encoding: compress ? .deflate : .identity, payload: bytes), on: consume stream, now: now)
    }

    /// A deferred unary handler's answer, outside any read.
    /// The caller asks for the connection's next wake-up once it has given every answer it
    /// has (`requestWakeUp`): once per batch of answers, not once per answer.
    mutating func deferredHandlerReturned(streamID id: UInt32, _ result: Result<ByteBuffer, any Error>, now: Instant) {
        synchronousHandlerReturned(streamID: id, result.map { SynchronousResponse(message: $0) }, now: now)
    }

    /// An asynchronous handler's initial metadata; at most once, before any message.
    mutating func sendHeaders(streamID id: UInt32, _ metadata: Metadata, completion: Completion) {
        guard phase != .closed, var stream = streams.removeValue(forKey: id) else {
            return actions.append(.failSend(completion, RPCError(.cancelled, "the call has ended")))
        }
        defer { streams[id] = stream }
        guard !stream.headersSent else {
            return actions.append(.failSend(completion, RPCError(.internal, "headers were already sent")))
        }
        stream.headersSent = true
        output.withBuffer { $0.writeHeadersFrame(streamID: id, metadata) }
        actions.append(.completeSend(completion))
    }

    /// An asynchronous handler's response message (compressed already when `encoding` says
    /// so), sent as flow control allows; `completion` is resumed once it is out.
    mutating func enqueue(streamID id: UInt32, _ bytes: ByteBuffer, encoding: MessageEncoding, uncompressedSize: Int,
                          completion: Completion, now: Instant) {
        guard phase != .closed, let stream = streams.removeValue(forKey: id) else {
            return actions.append(.failSend(completion, RPCError(.cancelled, "the call has ended")))
        }
        guard stream.pendingEnd == nil else {
            streams[id] = consume stream
            return actions.append(.failSend(completion, RPCError(.cancelled, "the call has ended")))
        }
        guard uncompressedSize <= peerSettings.sendableMessageSize, bytes.readableBytes <= peerSettings.sendableMessageSize else {
            streams[id] = consume stream
            let tooLarge = ConnectionFault.responseTooLarge(id, size: uncompressedSize, limit: peerSettings.sendableMessageSize)
            return actions.append(.failSend(completion, RPCError(.resourceExhausted, tooLarge.message)))
        }
        // Under memory pressure a connection holding much gets no more queued for it, whether
        // its calls have flow-control credit or not: a client that grants huge windows and
        // reads nothing would otherwise pile responses up in the socket's queue.
        guard account.admits(bytes.readableBytes) else {
            streams[id] = consume stream
            return actions.append(.failSend(completion, RPCError(.resourceExhausted, account.budget?.refusalMessage ?? "")))
        }
        var sending = consume stream
        sending.headersSent = true
        send(OutboundMessage(encoding: encoding, payload: bytes, completion: completion), on: sending, now: now)
    }

    /// Trailers an asynchronous handler sets for its OK END.
    mutating func setTrailers(streamID id: UInt32, _ metadata: Metadata) {
        streams[id]?.trailers = metadata
    }

    /// An asynchronous handler's task ended: OK END after its queued messages, or its error now.
    mutating func handlerFinished(streamID id: UInt32, _ result: Result<Void, any Error>, now: Instant) {
        defer { requestWakeUp() }
        runningHandlers -= 1
        guard let stream = streams.removeValue(forKey: id) else { return }
        finish(stream, result, now: now)
    }

    /// Ends `stream` (moved, never copied) after its handler's task ended.
    private mutating func finish(_ stream: consuming ServerStream<Completion>, _ result: Result<Void, any Error>,
                                 now: Instant) {
        switch result {
        case .success:
            stream.pendingEnd = CallEnd(code: .ok, message: "", trailers: stream.trailers)
            sendQueued(consume stream, now: now)
        case .failure(let error):
            end(consume stream, RPCError.from(error), now: now)
        }
    }

    /// An asynchronous handler took its oldest request message: credit to give back, if due.
    mutating func requestConsumed(streamID id: UInt32) {
        guard let kept = stream(id, { $0.inbound.keptMessages }),
              let (credit, released) = streams[id]?.inbound.consumedOne() else { return }
        if kept > 0 { account.release(KeptMessage.overhead) }
        if let credit { write(.windowUpdate(streamID: id, increment: credit)) }
        releaseInbound(released)
    }

    // MARK: - Sending (stream taken out of the table; put back while it stays open)

    /// Sends `message` behind what waits on the stream, then the END if it is due.
    mutating func send(_ message: OutboundMessage<Completion>, on stream: consuming ServerStream<Completion>, now: Instant) {
        let queued = stream.send.queuedBytes
        let collected = output.byteCount
        let step = stream.send.send(message, streamID: stream.id, maxFrameSize: Int(peerSettings.maxFrameSize),
                                    connection: &connectionSend, output: &output)
        noteCollected(output.byteCount - collected)
        noteQueued(stream.send.queuedBytes - queued)
        switch step {
        case .sent(let completion):
            stream.lastProgress = now
            if let completion { actions.append(.completeSend(completion)) }
        case .blockedOnConnection:
            connectionSend.block(stream.id)
        case .waiting:
            break
        }
        endIfSent(consume stream, now: now)
    }

    /// Sends what the windows now allow of the stream's queue, then the END if it is due.
    /// False when the stream still waits for room in the connection window (`retrying`: it
    /// was at the head of that line, and stays there).
    @discardableResult
    mutating func sendQueued(_ stream: consuming ServerStream<Completion>, now: Instant, retrying: Bool = false) -> Bool {
        let queued = stream.send.queuedBytes
        let collected = output.byteCount
        var fits = true
        sending: while true {
            switch stream.send.sendNext(streamID: stream.id, maxFrameSize: Int(peerSettings.maxFrameSize),
                                        connection: &connectionSend, output: &output, retrying: retrying) {
            case .sent(let completion):
                stream.lastProgress = now
                if let completion { actions.append(.completeSend(completion)) }
            case .waiting:
                break sending
            case .blockedOnConnection:
                fits = false
                if retrying { connectionSend.stillBlocked(stream.id) } else { connectionSend.block(stream.id) }
                break sending
            }
        }
        noteCollected(output.byteCount - collected)
        noteQueued(stream.send.queuedBytes - queued)
        endIfSent(consume stream, now: now)
        return fits
    }

    /// Writes the pending END once nothing waits before it (the call closes), or puts the
    /// stream back.
    private mutating func endIfSent(_ stream: consuming ServerStream<Completion>, now: Instant) {
        guard stream.send.isIdle, let end = stream.pendingEnd else {
            let id = stream.id
            streams[id] = consume stream
            return
        }
        writeEnd(streamID: stream.id, end)
        closed(consume stream, end.code, now: now)
    }
}
