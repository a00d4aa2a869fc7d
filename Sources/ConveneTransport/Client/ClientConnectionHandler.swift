import ConveneRPC
import ConveneWire
import NIOCore
import Synchronization

/// Speaks the client side of the protocol on one connection: opens calls on increasing
/// odd stream ids, demultiplexes the server's frames to them, and applies flow control.
/// Everything here runs on the connection's event loop.
///
/// It shares its parts with the server's connection: `FrameReader` (bytes to frames),
/// `OutboundSchedule` (when to write and flush, writers parked while the channel is not
/// writable), `SendFlow` and `StreamInbound` (each stream's flow control and messages).
/// Calls (opening, sending, ending) are in `+Calls`.
final class ClientConnectionHandler: ChannelInboundHandler, OutboundFlushing {
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
    var state = State.awaitingPreface {
        didSet { status.usable.store(state == .active, ordering: .relaxed) }
    }
    var peerSettings = Settings()
    /// What the server lets us send over all streams; the default until its SETTINGS come.
    var connectionSend = ConnectionSendWindow(window: Settings.defaultConnectionWindowSize)
    /// What we let the server send over all streams.
    var connectionReceive: ConnectionReceiveWindow
    private var reader: FrameReader
    var output: FrameOutput
    var schedule = OutboundSchedule()
    var streams: [UInt32: ClientStream] = [:]
    var nextStreamID: UInt32 = 1
    private(set) var context: ChannelHandlerContext?
    private var handshakeTimer: Scheduled<Void>?
    let handshake: EventLoopPromise<Void>
    private var pings: [UInt64: EventLoopPromise<NIODeadline>] = [:]
    private var versionMismatch: String?
    let allocator: ByteBufferAllocator
    /// Calls waiting for the server's MAX_CONCURRENT_STREAMS to allow them.
    var pendingOpens = CircularBuffer<PendingOpen>()

    init(configuration: ConnectionConfiguration, eventLoop: any EventLoop, allocator: ByteBufferAllocator,
         status: ConnectionStatus) {
        self.status = status
        self.configuration = configuration
        self.reader = FrameReader(limits: configuration.settings)
        self.handshake = eventLoop.makePromise()
        self.allocator = allocator
        self.output = FrameOutput(allocator: allocator)
        self.connectionReceive = ConnectionReceiveWindow(window: configuration.settings.connectionWindowSize)
    }

    var isUsable: Bool { state == .active }

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
        if context.channel.isWritable { schedule.resumeParked() }
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard isReading else { return }
        schedule.inReadBatch = true
        do {
            _ = try reader.read(&bytes) { event in
                switch event {
                case .preface(let preface): receivePreface(preface)
                case .frame(let frame): handle(frame)
                }
                return isReading
            }
            if let versionMismatch, state == .awaitingSettings { shutDown(reason: versionMismatch) }
        } catch {
            connectionError(error.goAwayCode, error.description)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        schedule.inReadBatch = false
        context.writeAndFlush(output.take())
        context.fireChannelReadComplete()
    }

    /// Output made outside a read goes out once this event-loop turn.
    func flushSoon() {
        if let context { schedule.scheduleFlush(self, on: context.eventLoop) }
    }

    func flushCollectedOutput() {
        schedule.flushStarted()
        context?.writeAndFlush(output.take())
    }

    // MARK: - Frames

    private var isReading: Bool {
        if case .closed = state { return false }
        return true
    }

    private func receivePreface(_ preface: Preface) {
        state = .awaitingSettings
        if preface.major != Preface.current.major {
            // The server explains in a GOAWAY that follows; this is the fallback reason.
            versionMismatch = "server speaks protocol \(preface.major).\(preface.minor), this client \(Preface.current.major).\(Preface.current.minor)"
        }
    }

    private func handle(_ frame: Frame) {
        switch frame {
        case .settings(let settings):
            peerSettings = settings
            output.withBuffer { $0.writeFrame(.settingsAck) }
            if state == .awaitingSettings {
                connectionSend.setInitial(settings.connectionWindowSize, assumed: Settings.defaultConnectionWindowSize)
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
            guard stream.headers == nil else {
                return connectionError(.protocolError, "malformed HEADERS frame: second HEADERS on stream \(id)")
            }
            stream.headers = metadata
            stream.headersPromise.succeed(metadata)
        case .data(let id, let payload, _):
            receiveData(streamID: id, payload: payload)
        case .end(let id, let end):
            guard let stream = streams[id] else { return }
            if end.code == .ok, stream.inbound.bufferedBytes > 0 {
                return complete(stream, CallEnd(code: .internal, message: "call ended inside a response message"))
            }
            complete(stream, end)
        case .windowUpdate(0, let increment):
            guard connectionSend.grant(increment) else {
                return connectionError(.flowControlError, "WINDOW_UPDATE on stream 0 overflows the connection window")
            }
            resumeBlocked()
        case .windowUpdate(let id, let increment):
            guard let stream = streams[id] else { return }
            guard stream.send.grant(increment) else {
                return connectionError(.flowControlError, "WINDOW_UPDATE overflows the window of stream \(id) past \(Settings.maxWindowSize)")
            }
            sendQueued(stream)
        case .call, .cancel:
            connectionError(.protocolError, "malformed \(frame.type) frame: only a client sends \(frame.type)")
        }
    }

    private func receiveData(streamID id: UInt32, payload: ByteBuffer) {
        guard connectionReceive.receive(payload.readableBytes) else {
            return connectionError(.flowControlError, "DATA past the connection's flow-control window")
        }
        guard let stream = streams[id] else { return releaseInbound(payload.readableBytes) }
        guard stream.inbound.accept(payload) else {
            return connectionError(.flowControlError, "stream \(id) sent past its flow-control window")
        }
        do {
            var inflated = 0  // a client trusts its server's pace (the server paces its peers)
            while let message = try stream.inbound.next(settings: configuration.settings,
                                                         maxRatio: configuration.maxDecompressionRatio, allocator: allocator,
                                                         inflated: &inflated) {
                switch stream.receiver {
                case .single:
                    guard stream.message == nil else {
                        return abortStream(stream, RPCError(.internal, "server sent more than one response message to a unary-response call"))
                    }
                    stream.message = message.bytes
                case .stream(let continuation):
                    continuation.yield(message.bytes)
                    stream.inbound.delivered(message)
                case nil:
                    break
                }
            }
        } catch {
            return abortStream(stream, RPCError(error.callStatus, error.description))
        }
        if let credit = stream.inbound.creditPartial() {
            output.withBuffer { $0.writeFrame(.windowUpdate(streamID: id, increment: credit)) }
        }
    }

    /// Response bytes left the connection window: credit on stream 0 when it is due.
    func releaseInbound(_ bytes: Int) {
        guard let credit = connectionReceive.release(bytes) else { return }
        output.withBuffer { $0.writeFrame(.windowUpdate(streamID: 0, increment: credit)) }
        flushSoon()
    }

    // MARK: - Connection lifecycle

    /// The server broke the protocol: tell it why (GOAWAY), and end every call.
    private func connectionError(_ code: GoAwayCode, _ message: String) {
        output.withBuffer { $0.writeFrame(.goAway(GoAway(lastStreamID: 0, code: code, message: message))) }
        context?.writeAndFlush(output.take())
        shutDown(reason: "protocol error from server: \(message)")
    }

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
            for message in stream.send.removeAll(connection: &connectionSend) {
                message.completion?.resume(throwing: CallNotProcessed(reason: reason))
            }
            fail(stream, notProcessed: reason)
        }
        closeIfDone()
    }

    func closeIfDone() {
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
        schedule.resumeParked(failing: RPCError(.unavailable, reason))
        context?.close(promise: nil)
    }

    func closeGracefully() {
        guard state == .active else { return }
        output.withBuffer { $0.writeFrame(.goAway(GoAway(lastStreamID: 0, code: .noError, message: "client closing"))) }
        state = .goingAway(lastStreamID: nextStreamID, reason: "client is closing")
        flushSoon()
        closeIfDone()
    }

    func ping(_ promise: EventLoopPromise<NIODeadline>) {
        guard state == .active else { return promise.fail(RPCError(.unavailable, "connection is not active")) }
        let opaque = UInt64.random(in: 0...UInt64.max)
        pings[opaque] = promise
        output.withBuffer { $0.writeFrame(.ping(opaque, ack: false)) }
        flushSoon()
    }
}
