import ConveneRPC
import ConveneWire
import Logging
import NIOCore

/// Events the server sends down a connection's pipeline.
public enum ServerConnectionEvent: Sendable {
    /// Stop accepting calls: send GOAWAY, finish in-flight calls, then close.
    case drain
}

/// Serves the Convene protocol on one connection: a thin channel handler around
/// `ServerConnectionStateMachine`.
///
/// It turns bytes into frames (`FrameReader`), feeds them to the machine with the time, and
/// does what the machine answers: writes its output, runs synchronous handlers inline,
/// starts and cancels handler tasks, keeps one wake-up timer, closes. Everything runs on
/// the connection's event loop. The frames produced while handling a read go out in one
/// write and one flush at `channelReadComplete`; asynchronous handlers hop back here to write.
final class ServerConnectionHandler: ChannelInboundHandler, OutboundFlushing {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    typealias Machine = ServerConnectionStateMachine<CheckedContinuation<Void, any Error>>

    /// A running asynchronous handler: its request stream's sink and its task.
    private struct RunningHandler {
        let requests: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
        var task: Task<Void, Never>?
    }

    let configuration: ConnectionConfiguration
    var logger: Logger
    let allocator: ByteBufferAllocator
    private let clock: ConnectionClock
    private var machine: Machine
    private var reader: FrameReader
    private var schedule = OutboundSchedule()
    private var running: [UInt32: RunningHandler] = [:]
    /// Deferred unary calls handed to their handlers and not answered yet.
    private var deferred: [UInt32: DeferredCompletion] = [:]
    private var wakeUp: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    /// When the read being handled arrived (a synchronous handler's result is dated by it).
    private var readTime: ContinuousClock.Instant
    /// Why this connection is refused as soon as it starts (too many connections).
    private let refusal: String?
    private var started = false
    private var peer = "unknown"

    init(router: Router, configuration: ConnectionConfiguration, logger: Logger,
         allocator: ByteBufferAllocator = ByteBufferAllocator(), refusal: String? = nil, clock: ConnectionClock = .continuous) {
        self.refusal = refusal
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.allocator = allocator
        self.reader = FrameReader(limits: configuration.settings)
        let now = clock.now()
        self.machine = Machine(configuration: configuration, router: router, allocator: allocator, now: now)
        self.readTime = now
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
        machine.start(now: clock.now(), refusal: refusal)
        afterInput()
    }

    /// The context holds this handler and this handler the context: letting go of it here
    /// is what frees both once the connection is gone.
    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    private func stop() {
        wakeUp?.cancel()
        wakeUp = nil
        machine.connectionClosed()
        performActions()
        schedule.resumeParked(failing: RPCError(.unavailable, "connection closed"))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard machine.isReading else { return }
        let now = clock.now()
        readTime = now
        schedule.inReadBatch = true
        do {
            let remainder = try reader.read(&bytes) { event in
                switch event {
                case .preface(let preface): machine.receivePreface(preface, now: now)
                case .frame(let frame): machine.receive(frame, now: now)
                }
                performActions()
                return machine.isReading
            }
            machine.readParsed(remainder, now: now)
        } catch {
            logger.debug("protocol error", metadata: ["error": "\(error)"])
            machine.receiveError(error, now: now)
        }
        performActions()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        schedule.inReadBatch = false
        machine.readComplete()
        performActions()
        context.writeAndFlush(machine.takeOutput())
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { schedule.resumeParked() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ServerConnectionEvent, case .drain = event {
            machine.drain(now: clock.now())
            afterInput()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Doing what the machine says

    /// After an input outside a read: act, and flush once this event-loop turn.
    private func afterInput() {
        performActions()
        if machine.hasOutput, let context { schedule.scheduleFlush(self, on: context.eventLoop) }
    }

    func flushCollectedOutput() {
        schedule.flushStarted()
        context?.writeAndFlush(machine.takeOutput())
    }

    private func performActions() {
        while let action = machine.nextAction() {
            switch action {
            case .runSynchronous(let call):
                runSynchronous(call)
            case .startHandler(let call):
                startHandler(call)
            case .runDeferred(let call):
                runDeferred(call)
            case .deliverRequest(let id, let message):
                running[id]?.requests.yield(message)
            case .finishRequests(let id):
                running[id]?.requests.finish()
            case .cancelHandler(let id, let error):
                deferred.removeValue(forKey: id)?.cancel()
                guard let handler = running.removeValue(forKey: id) else { continue }
                handler.requests.finish(throwing: error)
                handler.task?.cancel()
            case .completeSend(let completion):
                schedule.complete(completion, writable: context?.channel.isWritable ?? true)
            case .failSend(let completion, let error):
                completion.resume(throwing: error)
            case .scheduleWakeUp(let instant):
                scheduleWakeUp(at: instant)
            case .close(let reason):
                logger.debug("closing connection", metadata: ["reason": "\(reason)"])
                context?.writeAndFlush(machine.takeOutput())
                context?.close(promise: nil)
            }
        }
    }

    private func runSynchronous(_ call: SynchronousCall) {
        var unary = UnaryContext(method: call.method, requestMetadata: call.metadata, deadline: call.deadline,
                                 peer: peer, allocator: allocator)
        unary.requestEncoding = call.requestEncoding
        let result: Result<SynchronousResponse, any Error>
        do {
            let message = try call.body(call.request, &unary)
            result = .success(SynchronousResponse(message: message, headers: unary.responseHeaders,
                                                  trailers: unary.responseTrailers, compress: unary.compressResponse))
        } catch {
            result = .failure(error)
        }
        machine.synchronousHandlerReturned(streamID: call.streamID, result, now: readTime)
    }

    private func runDeferred(_ call: DeferredCall) {
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let id = call.streamID
        let completion = DeferredCompletion { result in
            loopBound.eventLoop.execute { loopBound.value.deferredFinished(streamID: id, result) }
        }
        deferred[call.streamID] = completion
        call.body(call.request, ServerCallContext(method: call.method, requestMetadata: call.metadata, deadline: call.deadline,
                                                  peer: peer), completion)
    }

    private func startHandler(_ call: AsynchronousCall) {
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let id = call.streamID
        let eventLoop = context.eventLoop
        let (requestStream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let requests = RequestStream(requestStream, onConsumed: { _ in
            eventLoop.execute { loopBound.value.requestConsumed(streamID: id) }
        })
        let writer = ServerResponseWriter(handler: loopBound, streamID: id, responseEncoding: call.responseEncoding,
                                          allocator: allocator)
        let callContext = ServerCallContext(method: call.method, requestMetadata: call.metadata, deadline: call.deadline,
                                            peer: peer)
        let body = call.body
        running[id] = RunningHandler(requests: continuation)
        running[id]?.task = Task {
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

    private func scheduleWakeUp(at instant: ContinuousClock.Instant) {
        guard let context else { return }
        wakeUp?.cancel()
        let delay = max(.zero, instant - clock.now()).saturatingNanoseconds
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        wakeUp = context.eventLoop.scheduleTask(in: .nanoseconds(delay)) { loopBound.value.wokeUp() }
    }

    private func wokeUp() {
        wakeUp = nil
        machine.tick(now: clock.now())
        afterInput()
    }

    // MARK: - Called from handler tasks (on the event loop)

    func requestConsumed(streamID id: UInt32) {
        machine.requestConsumed(streamID: id)
        afterInput()
    }

    func sendHeaders(streamID id: UInt32, _ metadata: Metadata, completion: CheckedContinuation<Void, any Error>) {
        machine.sendHeaders(streamID: id, metadata, completion: completion)
        afterInput()
    }

    func enqueue(streamID id: UInt32, _ bytes: ByteBuffer, encoding: MessageEncoding, uncompressedSize: Int,
                 completion: CheckedContinuation<Void, any Error>) {
        machine.enqueue(streamID: id, bytes, encoding: encoding, uncompressedSize: uncompressedSize,
                        completion: completion, now: clock.now())
        afterInput()
    }

    func setTrailers(streamID id: UInt32, _ metadata: Metadata) {
        machine.setTrailers(streamID: id, metadata)
    }

    /// A deferred unary call's answer (DeferredCompletion hops here with it).
    func deferredFinished(streamID id: UInt32, _ result: Result<ByteBuffer, any Error>) {
        guard deferred.removeValue(forKey: id) != nil else { return }
        machine.deferredHandlerReturned(streamID: id, result, now: clock.now())
        afterInput()
    }

    func handlerFinished(streamID id: UInt32, _ result: Result<Void, any Error>) {
        running.removeValue(forKey: id)?.requests.finish()
        machine.handlerFinished(streamID: id, result, now: clock.now())
        afterInput()
    }
}
