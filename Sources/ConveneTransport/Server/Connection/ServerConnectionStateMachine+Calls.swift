import ConveneRPC
import ConveneWire
import NIOCore

/// The frames of one call from the client: CALL, DATA, CANCEL, WINDOW_UPDATE.
extension ServerConnectionStateMachine {
    mutating func openCall(_ id: UInt32, _ start: CallStart, now: Instant) {
        guard id > highestStreamID else { return fault(.streamIDNotIncreasing(id, last: highestStreamID), now: now) }
        highestStreamID = id
        lastActivity = now
        guard phase == .active else { return fault(.callAfterGoAway(id), now: now) }
        lastProcessedStreamID = id
        let limit = configuration.settings.maxConcurrentStreams
        guard streams.count < Int(limit) else { return fault(.tooManyStreams(id, limit: limit), now: now) }
        let method: RegisteredMethod
        switch router.admit(path: start.path, metadata: start.metadata, cache: &routes) {
        case .run(let found): method = found
        case .refuse(let error, let refused):
            router.countRefusal(error, of: refused, transport: .native)
            return fault(.methodRefused(id, error), now: now)
        }
        if let refusal = admissionFault(id, start, method) { return fault(refusal, now: now) }
        // Compressed responses only in an encoding both sides announced.
        let asked = start.responseEncoding
        let encoding = asked != .identity && peerSettings.acceptEncodings.contains(asked)
            && configuration.settings.acceptEncodings.contains(asked) ? asked : .identity
        let cost = Self.openCost(start, method)
        account.charge(cost)
        let stream = ServerStream<Completion>(id: id, method: method, start: start, responseEncoding: encoding, now: now,
                                              local: configuration.settings, peer: peerSettings, openCost: cost)
        // A call answered within this read batch never needs its deadline: arm at the batch's end.
        if stream.deadline != nil { deadlinesToArm.append(id) }
        if case .asynchronous(let body) = method.handler {
            runningHandlers += 1
            actions.append(.startHandler(AsynchronousCall(streamID: id, body: body, method: method.descriptor,
                                                          metadata: stream.metadata, deadline: stream.deadline,
                                                          responseEncoding: encoding)))
        }
        streams[id] = consume stream
        if nextSweep == nil, let interval = sweepInterval { nextSweep = now + interval }
    }

    mutating func receiveData(_ id: UInt32, _ payload: ByteBuffer, endStream: Bool, now: Instant) {
        let size = payload.readableBytes
        // Empty DATA that does not end an open call changes nothing (on an ended one it is
        // counted as a frame for an ended call).
        if size == 0, !endStream, streams.index(forKey: id) != nil, !noteNoEffect(now: now) { return }
        guard connectionReceive.receive(size) else { return fault(.connectionWindowExceeded, now: now) }
        account.charge(size)
        guard let stream = streams.removeValue(forKey: id) else {
            releaseInbound(size)  // dropped: its credit comes back at once
            return fault(unknownStream(.data, id), now: now)
        }
        receive(payload, size: size, on: stream, endStream: endStream, now: now)
    }

    /// DATA for `stream`, taken out of the table (and put back while it stays open). Taken
    /// as `consuming`: the stream moves between the table and here, never copied.
    private mutating func receive(_ payload: ByteBuffer, size: Int, on stream: consuming ServerStream<Completion>,
                                  endStream: Bool, now: Instant) {
        let id = stream.id
        guard stream.state == .open else {
            releaseInbound(size)
            return fault(.dataAfterHalfClose(id), on: consume stream, now: now)
        }
        guard size == 0 || account.admits(0) else {
            releaseInbound(size)
            return fault(.overBudget(id, account.budget?.refusalMessage ?? ""), on: consume stream, now: now)
        }
        // A DATA frame inside a message that carries a sliver of it and completes nothing:
        // a client dribbling a message a byte per frame makes the server work per frame.
        let insideMessage = stream.inbound.bufferedBytes > 0
        guard stream.inbound.accept(payload) else {
            releaseInbound(size)
            return fault(.windowExceeded(id), on: consume stream, now: now)
        }
        stream.lastProgress = now
        var completed = false
        do {
            while let message = try stream.inbound.next(settings: configuration.settings,
                                                         maxRatio: configuration.maxDecompressionRatio, allocator: allocator,
                                                         inflated: &inflatedUntaken) {
                completed = true
                stream.requestsReceived += 1
                if !stream.kind.clientStreams && stream.requestsReceived > 1 {
                    return fault(.tooManyRequests(id, stream.method.descriptor), on: consume stream, now: now)
                }
                // A message kept past this read (until its stream ends, or its handler takes
                // it) is not a slice holding the whole read buffer; the one request of a call
                // whose stream ends in this frame is taken at once, as it is.
                var message = message
                if !(endStream && !stream.kind.clientStreams) { message.bytes = message.bytes.detachedIfSmall() }
                if stream.isSynchronous {
                    stream.unaryRequest = message
                } else {
                    actions.append(.deliverRequest(streamID: id, message.bytes))
                    stream.inbound.delivered(message)
                    account.charge(KeptMessage.overhead)
                }
            }
        } catch {
            return fault(.badMessage(id, error), on: consume stream, now: now)
        }
        if size < Self.sliverBytes, insideMessage, !completed, !noteNoEffect(now: now) {
            streams[id] = consume stream
            return
        }
        // The room made for an incomplete message is held as surely as its bytes: a peer
        // starting many large messages made the server hold several times what its bytes counted.
        account.update(&stream.roomCharged, to: stream.inbound.reservedRoom)
        // The message timeout counts from the first byte of the message still incomplete.
        if stream.inbound.bufferedBytes == 0 {
            stream.incompleteSince = nil
        } else if completed || stream.incompleteSince == nil {
            stream.incompleteSince = now
        }
        if let credit = stream.inbound.creditPartial() {
            write(.windowUpdate(streamID: id, increment: credit))
        }
        if endStream {
            stream.state = .halfClosed
            if stream.inbound.bufferedBytes > 0 {
                return fault(.endedInsideMessage(id, bufferedBytes: stream.inbound.bufferedBytes), on: consume stream, now: now)
            }
            if !stream.kind.clientStreams && stream.requestsReceived == 0 {
                return fault(.missingRequest(id, stream.kind), on: consume stream, now: now)
            }
            if stream.isSynchronous {
                // Run now, unless responses already wait for the client's credit: then the
                // call waits (its request, not yet a response, is what it holds).
                if outboundQueued > configuration.maxOutboundBuffered || !deferredSynchronous.isEmpty {
                    // It waits: kept apart from the read buffer it came in.
                    if var waiting = stream.unaryRequest {
                        waiting.bytes = waiting.bytes.detachedIfSmall()
                        stream.unaryRequest = waiting
                    }
                    deferredSynchronous.append(id)
                } else {
                    runSynchronous(&stream)
                }
            } else {
                actions.append(.finishRequests(streamID: id))
            }
        }
        streams[id] = consume stream
    }

    /// Hands a synchronous call whose request is whole to the handler to run.
    /// Runs a unary call whose request is whole: inline (synchronous), or handed to the
    /// handler's own threads (deferred).
    mutating func runSynchronous(_ stream: inout ServerStream<Completion>) {
        guard let request = stream.unaryRequest, stream.isSynchronous else { return }
        stream.unaryRequest = nil
        // The request is taken whole: its bytes leave the connection window.
        releaseInbound(stream.inbound.releaseAll())
        switch stream.method.handler {
        case .synchronousUnary(let body):
            actions.append(.runSynchronous(SynchronousCall(streamID: stream.id, body: body, method: stream.method.descriptor,
                                                           metadata: stream.metadata, deadline: stream.deadline,
                                                           request: request.bytes, requestEncoding: request.encoding)))
        case .deferredUnary(let body):
            actions.append(.runDeferred(DeferredCall(streamID: stream.id, body: body, method: stream.method.descriptor,
                                                     metadata: stream.metadata, deadline: stream.deadline,
                                                     request: request.bytes)))
        case .asynchronous:
            break
        }
    }

    /// The client gives up on a call: its handler is cancelled and nothing more is sent on it.
    mutating func receiveCancel(_ id: UInt32, now: Instant) {
        guard var stream = streams.removeValue(forKey: id) else { return fault(unknownStream(.cancel, id), now: now) }
        guard cancelPolicy.received(at: now) else {
            streams[id] = consume stream
            return fault(.cancelFlood(maxCancels: cancelPolicy.maxCancels, window: cancelPolicy.window), now: now)
        }
        abandon(&stream, RPCError(.cancelled, "call cancelled by the client"))
        closed(consume stream, .cancelled, now: now)
    }

    mutating func receiveWindowUpdate(_ id: UInt32, increment: UInt32, now: Instant) {
        windowUpdatesReceived += 1
        let allowed = configuration.windowUpdateAllowance + configuration.windowUpdatesPerDataFrame * connectionSend.dataFrames
        guard windowUpdatesReceived <= allowed else {
            return fault(.windowUpdateFlood(received: windowUpdatesReceived, dataFramesSent: connectionSend.dataFrames, allowed: allowed),
                         now: now)
        }
        if id == 0 { return receiveConnectionWindowUpdate(increment, now: now) }
        guard var stream = streams.removeValue(forKey: id) else { return fault(unknownStream(.windowUpdate, id), now: now) }
        guard stream.send.grant(increment) else { return fault(.windowOverflow(id), on: consume stream, now: now) }
        stream.lastProgress = now
        sendQueued(consume stream, now: now)
    }

    /// What the budget and the handler-task bound say about a new call, before anything is
    /// kept for it: nil admits it.
    private func admissionFault(_ id: UInt32, _ start: CallStart, _ method: RegisteredMethod) -> ConnectionFault? {
        if !account.admits(Self.openCost(start, method)) {
            return .overBudget(id, account.budget?.refusalMessage ?? "")
        }
        if case .asynchronous = method.handler, runningHandlers >= configuration.maxHandlerTasks {
            return .tooManyHandlers(id, running: runningHandlers)
        }
        return nil
    }

    /// What a call's metadata and path, and keeping it open (`OpenCallCost`), count against the
    /// budget while it is open.
    static func openCost(_ start: CallStart, _ method: RegisteredMethod) -> Int {
        start.metadata.countedSize + start.path.utf8.count + Metadata.entryOverhead + OpenCallCost.of(method)
    }

    /// A DATA frame smaller than this, inside a message and completing none, counts as a
    /// frame that changes nothing (clients send a message's middle in frames of kilobytes).
    static var sliverBytes: Int { 1024 }

    /// A frame for a stream not in the table: one that ended (dropped), or one no CALL opened.
    private func unknownStream(_ type: FrameType, _ id: UInt32) -> ConnectionFault {
        id > highestStreamID ? .frameOnIdleStream(type, id) : .frameOnClosedStream(type, id)
    }
}
