import ConveneRPC
import ConveneWire
import NIOCore
import Synchronization

/// Speaks the client side of the protocol on one connection: opens calls on increasing
/// odd stream ids, demultiplexes the server's frames to them, and applies flow control.
/// Everything here runs on the connection's event loop.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let status: ConnectionStatus
    enum State: Equatable {
        case awaitingPreface
        case awaitingSettings
        case active
        case goingAway(lastStreamID: UInt32, reason: String)
        case closed(reason: String)
    }

    let configuration: ConnectionConfiguration
    private(set) var state = State.awaitingPreface {
        didSet { status.usable.store(state == .active, ordering: .relaxed) }
    }
    var peerSettings = Settings()
    private let parser: FrameParser
    private var inbound = InboundBuffer()
    private var output: FrameOutput
    private var streams: [UInt32: ClientStream] = [:]
    private var nextStreamID: UInt32 = 1
    private(set) var context: ChannelHandlerContext!
    private var inReadBatch = false
    private var flushScheduled = false
    private var handshakeTimer: Scheduled<Void>?
    let handshake: EventLoopPromise<Void>
    private var parkedCompletions: [CheckedContinuation<Void, any Error>] = []
    private var pings: [UInt64: EventLoopPromise<NIODeadline>] = [:]
    private var versionMismatch: String?
    let allocator: ByteBufferAllocator

    init(configuration: ConnectionConfiguration, eventLoop: any EventLoop, allocator: ByteBufferAllocator,
         status: ConnectionStatus) {
        self.status = status
        self.configuration = configuration
        self.parser = FrameParser(limits: configuration.settings)
        self.handshake = eventLoop.makePromise()
        self.allocator = allocator
        self.output = FrameOutput(allocator: allocator)
    }

    var isUsable: Bool { state == .active }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start() }
    }

    func channelActive(context: ChannelHandlerContext) {
        start()
        context.fireChannelActive()
    }

    private func start() {
        guard handshakeTimer == nil else { return }
        output.withBuffer {
            $0.writePreface(.current)
            $0.writeFrame(.settings(configuration.settings))
        }
        context.writeAndFlush(output.take())
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        handshakeTimer = context.eventLoop.scheduleTask(in: .nanoseconds(configuration.handshakeTimeout.nanoseconds)) {
            let handler = loopBound.value
            if handler.state == .awaitingPreface || handler.state == .awaitingSettings {
                handler.shutDown(reason: "server did not complete the handshake within \(handler.configuration.handshakeTimeout)")
            }
        }
    }

    /// The context holds this handler and this handler the context: letting go of it here
    /// is what frees both once the connection is gone.
    func handlerRemoved(context: ChannelHandlerContext) {
        shutDown(reason: "connection closed")
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        shutDown(reason: "connection closed")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        shutDown(reason: "connection error: \(error)")
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resumeParked() }
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        inReadBatch = true
        var buffer = inbound.appending(&bytes)
        process(&buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBatch = false
        context.writeAndFlush(output.take())
        context.fireChannelReadComplete()
    }

    // MARK: - Decoding

    private func process(_ buffer: inout ByteBuffer) {
        do {
            if state == .awaitingPreface {
                guard let preface = try buffer.readPreface() else { return stash(buffer) }
                state = .awaitingSettings
                if preface.major != Preface.current.major {
                    // The server explains in a GOAWAY that follows; this is the fallback reason.
                    versionMismatch = "server speaks protocol \(preface.major).\(preface.minor), this client \(Preface.current.major).\(Preface.current.minor)"
                }
            }
            while isReading, let frame = try parser.next(from: &buffer) {
                try handle(frame)
            }
            if isReading { stash(buffer) }
            if let versionMismatch, state == .awaitingSettings { shutDown(reason: versionMismatch) }
        } catch let error as WireError {
            output.withBuffer { $0.writeFrame(.goAway(GoAway(lastStreamID: 0, code: error.goAwayCode, message: error.description))) }
            context.writeAndFlush(output.take())
            shutDown(reason: "protocol error from server: \(error)")
        } catch {
            shutDown(reason: "\(error)")
        }
    }

    private var isReading: Bool {
        if case .closed = state { return false }
        return true
    }

    private func stash(_ buffer: ByteBuffer) {
        inbound.keep(buffer)
    }

    private func handle(_ frame: Frame) throws {
        switch frame {
        case .settings(let settings):
            peerSettings = settings
            output.withBuffer { $0.writeFrame(.settingsAck) }
            if state == .awaitingSettings {
                state = .active
                handshakeTimer?.cancel()
                handshake.succeed(())
            }
        case .settingsAck:
            break
        case .ping(let opaque, let ack):
            if ack {
                pings.removeValue(forKey: opaque)?.succeed(.now())
            } else {
                output.withBuffer { $0.writeFrame(.ping(opaque, ack: true)) }
            }
        case .goAway(let goAway):
            receivedGoAway(goAway)
        case .headers(let id, let metadata):
            guard let stream = streams[id] else { return }
            guard stream.headers == nil else { throw WireError.malformed(.headers, "second HEADERS on stream \(id)") }
            stream.headers = metadata
            stream.headersPromise.succeed(metadata)
        case .data(let id, let payload, _):
            try receiveData(streamID: id, payload: payload)
        case .end(let id, let end):
            guard let stream = streams[id] else { return }
            if end.code == .ok, stream.deframer.bufferedBytes > 0 {
                return complete(stream, CallEnd(code: .internal, message: "call ended inside a response message"))
            }
            complete(stream, end)
        case .windowUpdate(let id, let increment):
            guard let stream = streams[id] else { return }
            stream.send.window = min(stream.send.window + Int(increment), Int(Settings.maxWindowSize))
            drainSend(stream)
        case .call, .cancel:
            throw WireError.malformed(frame.type, "only a client sends \(frame.type)")
        }
    }

    private func receiveData(streamID id: UInt32, payload: ByteBuffer) throws {
        guard let stream = streams[id] else { return }
        guard stream.receive.receive(payload.readableBytes) else {
            throw WireError.malformed(.data, "stream \(id) sent past its flow-control window")
        }
        stream.deframer.append(payload)
        do {
            while let framed = try stream.deframer.next() {
                let message = try framed.decoded(settings: configuration.settings,
                                                  maxRatio: configuration.maxDecompressionRatio, allocator: allocator)
                switch stream.receiver {
                case .single:
                    guard stream.message == nil else {
                        throw RPCError(.internal, "server sent more than one response message to a unary-response call")
                    }
                    stream.message = message
                case .stream(let continuation):
                    continuation.yield(message)
                    stream.receive.messageDelivered(wireSize: MessagePrefix.size + framed.bytes.readableBytes)
                case nil:
                    break
                }
            }
        } catch let error as WireError {
            return abortStream(stream, error.callError)
        } catch {
            return abortStream(stream, RPCError.from(error))
        }
        if let credit = stream.receive.partialBuffered(stream.deframer.bufferedBytes) {
            output.withBuffer { $0.writeFrame(.windowUpdate(streamID: id, increment: credit)) }
        }
    }

    // MARK: - Starting calls

    /// A call waiting for the server's MAX_CONCURRENT_STREAMS to allow it.
    private struct PendingOpen {
        let stream: ClientStream
        let path: String
        let options: CallOptions
        let request: ByteBuffer?
    }

    private var pendingOpens = CircularBuffer<PendingOpen>()

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
        if stream.timeoutMicros > 0 {
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
        scheduleFlush()
    }

    private func startPending() {
        guard state == .active else { return }
        while streams.count < Int(peerSettings.maxConcurrentStreams), let next = pendingOpens.popFirst() {
            start(next)
        }
    }

    private func fail(_ stream: ClientStream, notProcessed reason: String) {
        let error = CallNotProcessed(reason: reason)
        stream.end = CallEnd(code: .unavailable, message: error.description)
        switch stream.receiver {
        case .single(let c): c.resume(throwing: error)
        case .stream(let c): c.finish(throwing: error)
        case nil: break
        }
        stream.receiver = nil
        stream.headersPromise.fail(error)
        stream.endPromise.succeed(stream.end!)
    }

    // MARK: - Sending

    /// Queues a request message (or, with an empty `nil`-payload, a bare half-close).
    func enqueue(_ stream: ClientStream, _ message: ByteBuffer?, compress: Bool, endStream: Bool,
                 completion: CheckedContinuation<Void, any Error>?) {
        guard stream.id != 0, !stream.isEnded, streams[stream.id] != nil else {
            // Half-closing a call the server has already ended leaves nothing to close: the
            // call's status comes with its responses, as it does for any other call.
            if message == nil, endStream, stream.isEnded { completion?.resume(); return }
            completion?.resume(throwing: RPCError(stream.end?.code == .ok ? .internal : stream.end?.code ?? .cancelled,
                                                  "cannot send: the call has ended"))
            return
        }
        var payload = message ?? ByteBuffer()
        var encoding = MessageEncoding.identity
        if message != nil {
            guard payload.readableBytes <= Int(peerSettings.maxMessageSize) else {
                completion?.resume(throwing: RPCError(.resourceExhausted,
                    "request of \(payload.readableBytes) bytes is over the server's max message size \(peerSettings.maxMessageSize)"))
                return
            }
            if compress, stream.requestEncoding == .deflate, peerSettings.acceptEncodings.contains(.deflate) {
                payload = MessageCompression.deflate(payload, allocator: allocator)
                encoding = .deflate
            }
        }
        var outbound = OutboundMessage(encoding: encoding, payload: payload, endStream: endStream, completion: completion)
        if message == nil { outbound.offset = MessagePrefix.size }  // no message: an empty DATA with END_STREAM
        stream.send.queue.append(outbound)
        drainSend(stream)
    }

    private func drainSend(_ stream: ClientStream) {
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
        scheduleFlush()
    }

    func consumed(_ stream: ClientStream) {
        guard streams[stream.id] != nil, let credit = stream.receive.consumedOne() else { return }
        output.withBuffer { $0.writeFrame(.windowUpdate(streamID: stream.id, increment: credit)) }
        scheduleFlush()
    }

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
        scheduleFlush()
        complete(stream, CallEnd(code: code, message: message))
    }

    private func abortStream(_ stream: ClientStream, _ error: RPCError) {
        cancel(stream, code: error.code, message: error.message)
    }

    /// Ends a call with `end`, resuming whoever waits on it.
    private func complete(_ stream: ClientStream, _ end: CallEnd) {
        guard !stream.isEnded else { return }
        stream.end = end
        if stream.id != 0 { streams[stream.id] = nil }
        stream.timer?.cancel()
        stream.send.failAll(RPCError(end.code == .ok ? .internal : end.code, "the call has ended: \(end.message)"))
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

    // MARK: - Connection lifecycle

    private func receivedGoAway(_ goAway: GoAway) {
        let reason = "server sent GOAWAY \(goAway.code): \(goAway.message)"
        if state == .awaitingPreface || state == .awaitingSettings {
            handshakeTimer?.cancel()
            handshake.fail(RPCError(.unavailable, "server refused the connection: \(goAway.message) (\(goAway.code))"))
        }
        state = .goingAway(lastStreamID: goAway.lastStreamID, reason: reason)
        while let pending = pendingOpens.popFirst() {
            pending.stream.timer?.cancel()
            fail(pending.stream, notProcessed: reason)
        }
        for (id, stream) in streams where id > goAway.lastStreamID {
            streams[id] = nil
            stream.timer?.cancel()
            stream.send.failAll(CallNotProcessed(reason: reason))
            fail(stream, notProcessed: reason)
        }
        closeIfDone()
    }

    private func closeIfDone() {
        if case .goingAway = state, streams.isEmpty, pendingOpens.isEmpty {
            state = .closed(reason: "server went away")
            context?.writeAndFlush(output.take())
            context?.close(promise: nil)
        }
    }

    /// Ends every call and closes the connection.
    func shutDown(reason: String) {
        if case .closed = state, streams.isEmpty { return }
        handshakeTimer?.cancel()
        if state == .awaitingPreface || state == .awaitingSettings {
            handshake.fail(RPCError(.unavailable, reason))
        }
        state = .closed(reason: reason)
        let streams = self.streams
        self.streams.removeAll()
        for stream in streams.values { complete(stream, CallEnd(code: .unavailable, message: reason)) }
        while let pending = pendingOpens.popFirst() {
            complete(pending.stream, CallEnd(code: .unavailable, message: reason))
        }
        for (_, promise) in pings { promise.fail(RPCError(.unavailable, reason)) }
        pings.removeAll()
        resumeParked()
        context?.close(promise: nil)
    }

    func closeGracefully() {
        guard state == .active else { return }
        output.withBuffer { $0.writeFrame(.goAway(GoAway(lastStreamID: 0, code: .noError, message: "client closing"))) }
        state = .goingAway(lastStreamID: nextStreamID, reason: "client is closing")
        scheduleFlush()
        closeIfDone()
    }

    func ping(_ promise: EventLoopPromise<NIODeadline>) {
        guard state == .active else { return promise.fail(RPCError(.unavailable, "connection is not active")) }
        let opaque = UInt64.random(in: 0...UInt64.max)
        pings[opaque] = promise
        output.withBuffer { $0.writeFrame(.ping(opaque, ack: false)) }
        scheduleFlush()
    }

    private func scheduleFlush() {
        guard !inReadBatch, !flushScheduled, let context else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            handler.flushScheduled = false
            handler.context?.writeAndFlush(handler.output.take())
        }
    }

    private func resumeParked() {
        let parked = parkedCompletions
        parkedCompletions = []
        if case .closed(let reason) = state {
            for c in parked { c.resume(throwing: RPCError(.unavailable, reason)) }
        } else {
            for c in parked { c.resume() }
        }
    }
}
