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
        switch router.lookup(path: start.path) {
        case .found(let found): method = found
        case .unimplemented(let error): return fault(.unknownMethod(id, error), now: now)
        }
        // Compressed responses only in an encoding both sides announced.
        let asked = start.responseEncoding
        let encoding = asked != .identity && peerSettings.acceptEncodings.contains(asked)
            && configuration.settings.acceptEncodings.contains(asked) ? asked : .identity
        let stream = ServerStream<Completion>(id: id, method: method, start: start, responseEncoding: encoding, now: now,
                                              local: configuration.settings, peer: peerSettings)
        // A call answered within this read batch never needs its deadline: arm at the batch's end.
        if stream.deadline != nil { deadlinesToArm.append(id) }
        if case .asynchronous(let body) = method.handler {
            actions.append(.startHandler(AsynchronousCall(streamID: id, body: body, method: method.descriptor,
                                                          metadata: stream.metadata, deadline: stream.deadline,
                                                          responseEncoding: encoding)))
        }
        streams[id] = stream
    }

    mutating func receiveData(_ id: UInt32, _ payload: ByteBuffer, endStream: Bool, now: Instant) {
        guard var stream = streams.removeValue(forKey: id) else { return fault(unknownStream(.data, id), now: now) }
        guard stream.state == .open else { return fault(.dataAfterHalfClose(id), on: stream, now: now) }
        guard stream.inbound.accept(payload) else { return fault(.windowExceeded(id), on: stream, now: now) }
        do {
            while let message = try stream.inbound.next(settings: configuration.settings,
                                                         maxRatio: configuration.maxDecompressionRatio, allocator: allocator) {
                stream.requestsReceived += 1
                if !stream.kind.clientStreams && stream.requestsReceived > 1 {
                    return fault(.tooManyRequests(id, stream.method.descriptor), on: stream, now: now)
                }
                if stream.isSynchronous {
                    stream.unaryRequest = message
                } else {
                    actions.append(.deliverRequest(streamID: id, message.bytes))
                    stream.inbound.delivered(message)
                }
            }
        } catch {
            return fault(.badMessage(id, error), on: stream, now: now)
        }
        if let credit = stream.inbound.creditPartial() {
            write(.windowUpdate(streamID: id, increment: credit))
        }
        if endStream {
            stream.state = .halfClosed
            if stream.inbound.bufferedBytes > 0 {
                return fault(.endedInsideMessage(id, bufferedBytes: stream.inbound.bufferedBytes), on: stream, now: now)
            }
            if !stream.kind.clientStreams && stream.requestsReceived == 0 {
                return fault(.missingRequest(id, stream.kind), on: stream, now: now)
            }
            switch (stream.method.handler, stream.unaryRequest) {
            case (.synchronousUnary(let body), let request?):
                stream.unaryRequest = nil
                actions.append(.runSynchronous(SynchronousCall(streamID: id, body: body, method: stream.method.descriptor,
                                                               metadata: stream.metadata, deadline: stream.deadline,
                                                               request: request.bytes, requestEncoding: request.encoding)))
            case (.deferredUnary(let body), let request?):
                stream.unaryRequest = nil
                actions.append(.runDeferred(DeferredCall(streamID: id, body: body, method: stream.method.descriptor,
                                                         metadata: stream.metadata, deadline: stream.deadline,
                                                         request: request.bytes)))
            default:
                actions.append(.finishRequests(streamID: id))
            }
        }
        streams[id] = stream
    }

    /// The client gives up on a call: its handler is cancelled and nothing more is sent on it.
    mutating func receiveCancel(_ id: UInt32, now: Instant) {
        guard let stream = streams.removeValue(forKey: id) else { return fault(unknownStream(.cancel, id), now: now) }
        abandon(stream, RPCError(.cancelled, "call cancelled by the client"))
        closed(stream, now: now)
    }

    mutating func receiveWindowUpdate(_ id: UInt32, increment: UInt32, now: Instant) {
        guard var stream = streams.removeValue(forKey: id) else { return fault(unknownStream(.windowUpdate, id), now: now) }
        guard stream.send.grant(increment) else { return fault(.windowOverflow(id), on: stream, now: now) }
        sendQueued(stream, now: now)
    }

    /// A frame for a stream not in the table: one that ended (dropped), or one no CALL opened.
    private func unknownStream(_ type: FrameType, _ id: UInt32) -> ConnectionFault {
        id > highestStreamID ? .frameOnIdleStream(type, id) : .frameOnClosedStream(type, id)
    }
}
