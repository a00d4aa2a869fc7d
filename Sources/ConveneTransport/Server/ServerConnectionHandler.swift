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
/// `ServerConnectionStateMachine`. (Over 400 lines in one file: its parts share the
/// handler's private state, which extensions in other files could not see.)
///
/// It turns bytes into frames (`FrameReader`), feeds them to the machine with the time, and
/// does what the machine answers: writes its output, runs synchronous handlers inline,
/// starts and cancels handler tasks, keeps one wake-up timer (on the event loop's shared
/// `LoopTimers`), closes. Everything runs on the connection's event loop. The frames
/// produced while handling a read go out in one write and one flush at
/// `channelReadComplete`; asynchronous handlers hop back here to write.
///
/// Backpressure: while the client leaves more than `maxOutboundBuffered` response bytes
/// unread, the handler stops parsing (what it read stays in the `FrameReader`) and stops
/// asking the channel to read; it starts again once the socket drains.
final class ServerConnectionHandler: ChannelDuplexHandler, OutboundFlushing {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    typealias Machine = ServerConnectionStateMachine<SendCompletion>

    /// An asynchronous handler: until the end of the read batch that opened its call, the
    /// call and what came for it meanwhile (nothing else is made for it yet); then its
    /// request stream's sink and its task.
    struct RunningHandler {
        var pending: AsynchronousCall?
        var early: [ByteBuffer] = []
        var requestsEnded = false
        var requests: AsyncThrowingStream<ByteBuffer, any Error>.Continuation?
        var task: Task<Void, Never>?

        mutating func deliver(_ message: ByteBuffer) {
            if let requests { requests.yield(message) } else { early.append(message) }
        }

        mutating func finish() {
            if let requests { requests.finish() } else { requestsEnded = true }
        }
    }

    let configuration: ConnectionConfiguration
    var logger: Logger
    let allocator: ByteBufferAllocator
    let clock: ConnectionClock
    var machine: Machine
    private var reader: FrameReader
    var schedule = OutboundSchedule()
    var running: [UInt32: RunningHandler] = [:]
    /// Deferred unary calls handed to their handlers and not answered yet.
    var deferred: [UInt32: ConnectionCompletion] = [:]
    /// Their answers, waiting for the event loop (taken in batches).
    let deferredAnswers = DeferredAnswers<ConnectionCompletion>()
    /// Calls opened in this read batch whose task starts at its end, unless cancelled first:
    /// a CALL-then-CANCEL flood then creates no task at all.
    var launchesDue: [UInt32] = []
    private var wakeUp: LoopTimer?
    var context: ChannelHandlerContext?
    /// Parsing and reading stopped because the client does not read its responses.
    private var paused = false
    /// The channel asked to read while paused.
    private var readPending = false
    /// Frames are being fed to the machine (resuming must wait for the end of it).
    private var parsing = false
    /// CALL frames handled in this turn of the event loop; past `maxCallsPerTurn` the
    /// connection yields to the others on its loop until the next turn.
    private var callsThisTurn = 0
    /// Frames of any kind handled in this turn: past `maxFramesPerTurn` it yields too.
    private var framesThisTurn = 0
    private var yielding = false
    /// More than a client with 64 calls in flight opens in one turn, so that such a client
    /// never waits; a pipelining flood is cut into turns of this many calls (`LoopTurns`).
    static let maxCallsPerTurn = 128
    /// Likewise for frames that open no call (a flood of cheap ones: a read of 64 KiB holds
    /// thousands), well above the frames of `maxCallsPerTurn` calls and their messages.
    static let maxFramesPerTurn = 1_024
    /// The loop's turns, once this connection first yields.
    private var turns: LoopTurns?
    /// What the connection may still inflate from compressed requests now (`InflatePacing`).
    private var inflating = InflatePacing()
    /// When the read being handled arrived (a synchronous handler's result is dated by it).
    var readTime: MonotonicInstant {
        didSet { clockAnchor = nil }
    }
    /// The connection's clock and `ContinuousClock` read together, once in a read batch when
    /// a call with a deadline first needs it: handlers' contexts take their deadline on the
    /// standard clock (`Deadline`), and this saves reading both clocks for every call.
    private var clockAnchor: (connection: MonotonicInstant, continuous: ContinuousClock.Instant)?
    /// Why this connection is refused as soon as it starts (too many connections).
    private let refusal: String?
    private var started = false
    var peer = "unknown"
    /// Told the bytes this handler reads and writes, once per read batch and once per write,
    /// when it is nearest the socket (no TLS; with TLS a `ByteCounter` ahead of it counts).
    private let byteObserver: (any ConnectionObserver)?
    private var unreportedRead = 0

    init(router: Router, configuration: ConnectionConfiguration, logger: Logger,
         allocator: ByteBufferAllocator = ByteBufferAllocator(), refusal: String? = nil, clock: ConnectionClock = .continuous,
         observer: (any ConnectionObserver)? = nil, countsBytes: Bool = false) {
        self.refusal = refusal
        self.byteObserver = countsBytes ? observer : nil
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.allocator = allocator
        self.reader = FrameReader(limits: configuration.settings)
        let now = clock.now()
        self.machine = Machine(configuration: configuration, router: router, allocator: allocator, now: now, observer: observer)
        self.readTime = now
    }

    /// A call's deadline on `ContinuousClock`, for its handler's context.
    func handlerDeadline(_ deadline: MonotonicInstant?) -> Deadline? {
        guard let deadline else { return nil }
        let anchor = clockAnchor ?? (clock.now(), ContinuousClock.now)
        clockAnchor = anchor
        return anchor.continuous.advanced(by: deadline - anchor.connection)
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
        // The timer holds the handler until `stop` lets go of it.
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        wakeUp = LoopTimer(on: context.eventLoop) { loopBound.value.wokeUp() }
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
        // A turn this connection still waits for holds it (until that batch runs): the
        // connection no longer holds the turns.
        turns = nil
        machine.connectionClosed()
        performActions()
        schedule.resumeParked(failing: RPCError(.unavailable, "connection closed"))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if byteObserver != nil { unreportedRead += bytes.readableBytes }
        guard machine.isReading else { return }
        guard !paused else { return reader.keep(&bytes) }
        readTime = clock.now()
        schedule.inReadBatch = true
        parse(&bytes)
    }

    /// Feeds the machine the frames `bytes` completes (with what the reader kept), until the
    /// connection closes or the client's unread responses make it pause.
    private func parse(_ bytes: inout ByteBuffer) {
        let now = readTime
        parsing = true
        defer { parsing = false }
        do {
            let remainder = try reader.read(&bytes) { event in
                switch consume event {
                case .preface(let preface):
                    machine.receivePreface(preface, now: now)
                case .frame(let frame):
                    if case .call = frame { callsThisTurn += 1 }
                    framesThisTurn += 1
                    machine.receive(frame, now: now)
                }
                performActions()
                if machine.isReading, machine.shouldPauseReading { pause() }
                if machine.isReading, callsThisTurn >= Self.maxCallsPerTurn || framesThisTurn >= Self.maxFramesPerTurn { yieldTurn() }
                if machine.inflatedUntaken > 0 {
                    let wait = inflating.inflated(machine.inflatedUntaken, now: clock.now())
                    machine.inflatedUntaken = 0
                    if machine.isReading, let wait { yieldTurn(for: wait) }
                }
                return machine.isReading && !paused
            }
            if !paused { machine.readParsed(remainder, now: now) }
        } catch {
            logger.debug("protocol error", metadata: ["error": "\(error)"])
            machine.receiveError(error, now: now)
        }
        performActions()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        callsThisTurn = 0
        framesThisTurn = 0
        schedule.inReadBatch = false
        launchDueHandlers()
        machine.readComplete()
        performActions()
        write(machine.takeOutput())
        context.fireChannelReadComplete()
    }

    // MARK: - Backpressure

    /// Holds the channel's reads while paused.
    func read(context: ChannelHandlerContext) {
        if paused {
            readPending = true
        } else {
            context.read()
        }
    }

    private func pause() {
        guard !paused else { return }
        paused = true
        machine.readingPaused()
    }

    /// A connection that opens calls by the thousand in one read (a pipelining or
    /// CALL-then-CANCEL flood) takes its turns like the others: it stops parsing here, and
    /// goes on once the loop has read the other connections (`LoopTurns`); or, when it has
    /// inflated more than its pace allows (`InflatePacing`), once `delay` has passed (its
    /// reads wait meanwhile).
    private func yieldTurn(for delay: Duration? = nil) {
        guard !yielding, let context else { return }
        yielding = true
        pause()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let resume: @Sendable () -> Void = {
            let handler = loopBound.value
            handler.yielding = false
            handler.callsThisTurn = 0
            handler.framesThisTurn = 0
            guard handler.paused, handler.machine.isReading, !handler.machine.shouldPauseReading,
                  handler.context?.channel.isWritable ?? false else { return }
            handler.resume()
        }
        if let delay {
            context.eventLoop.scheduleTask(in: .nanoseconds(delay.saturatingNanoseconds)) { resume() }
        } else {
            let turns = turns ?? LoopTurns.on(context.eventLoop)
            self.turns = turns
            turns.yield(resume)
        }
    }

    /// Writes and flushes `frames`, then notes what waits in the socket's queue.
    private func write(_ frames: CollectedFrames) {
        reportBytes(written: frames.byteCount)
        guard let context else { return }
        context.writeAndFlush(frames)
        noteChannelPending(wrote: frames.byteCount)
    }

    /// Tells the observer what was read since the last report and what is being written.
    private func reportBytes(written: Int) {
        guard let byteObserver, unreportedRead > 0 || written > 0 else { return }
        byteObserver.bytes(.native, read: unreportedRead, written: written)
        unreportedRead = 0
    }

    /// Reads the socket's queue when it may hold much (a large write, a queue already
    /// non-empty, or the channel over its high-water mark); pauses or resumes reading.
    private func noteChannelPending(wrote bytes: Int) {
        guard let channel = context?.channel else { return }
        if bytes >= 64 * 1024 || machine.channelPending > 0 || !channel.isWritable {
            let pending = (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
            machine.channelPendingChanged(pending)
        }
        if machine.shouldPauseReading || !channel.isWritable {
            pause()
        } else if paused, !parsing, !yielding {
            resume()
        }
    }

    /// The client reads again: parse what was kept, then read from the socket again.
    private func resume() {
        paused = false
        readTime = clock.now()
        schedule.inReadBatch = true
        var nothing = ByteBuffer()
        parse(&nothing)
        schedule.inReadBatch = false
        launchDueHandlers()
        machine.readComplete()
        performActions()
        let output = machine.takeOutput()
        if !output.isEmpty { write(output) }
        if !paused, readPending, let context {
            readPending = false
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { schedule.resumeParked() }
        noteChannelPending(wrote: 0)
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
    func afterInput() {
        performActions()
        if machine.hasOutput, let context { schedule.scheduleFlush(self, on: context.eventLoop) }
    }

    func flushCollectedOutput() {
        schedule.flushStarted()
        write(machine.takeOutput())
    }

    func performActions() {
        while let action = machine.nextAction() {
            // Consumed: the payload is moved into the case's bindings, not copied.
            switch consume action {
            case .runSynchronous(let call):
                runSynchronous(call)
            case .startHandler(let call):
                startHandler(call)
            case .runDeferred(let call):
                runDeferred(call)
            case .deliverRequest(let id, let message):
                running[id]?.deliver(message)
            case .finishRequests(let id):
                running[id]?.finish()
            case .cancelHandler(let id, let error):
                deferred.removeValue(forKey: id)?.cancel()
                guard let handler = running.removeValue(forKey: id) else { continue }
                handler.requests?.finish(throwing: error)
                handler.task?.cancel()
            case .completeSend(let completion):
                schedule.complete(completion, writable: context?.channel.isWritable ?? true)
            case .failSend(let completion, let error):
                completion.resume(throwing: error)
            case .scheduleWakeUp(let instant):
                scheduleWakeUp(at: instant)
            case .close(let reason):
                logger.debug("closing connection", metadata: ["reason": "\(reason)"])
                let output = machine.takeOutput()
                reportBytes(written: output.byteCount)
                context?.writeAndFlush(output)
                context?.close(promise: nil)
                readPending = false
            }
        }
    }

    private func scheduleWakeUp(at instant: MonotonicInstant) {
        guard let context, let wakeUp else { return }
        let delay = max(.zero, instant - clock.now()).saturatingNanoseconds
        wakeUp.arm(at: context.eventLoop.now + .nanoseconds(delay))
    }

    private func wokeUp() {
        machine.tick(now: clock.now())
        afterInput()
    }

}
