import ConveneRPC
import ConveneTransport
import NIOCore
import NIOHTTP2

/// Time and resources of a gRPC connection: one wake-up on the event loop's `LoopTimers`
/// for the lifecycle (idle close, keepalive), call deadlines and the sweep of open calls
/// (message timeout, call idle limit); the budget's admission of new calls and the bound on
/// handler tasks; reads held, and synchronous calls deferred, while responses go unread.
extension GRPCConnectionHandler {
    // MARK: - The wake-up

    func startTimer(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = LoopTimer(on: context.eventLoop) { loopBound.value.wokeUp() }
        if let interval = tickInterval {
            nextTick = .now() + interval
            rearm()
        }
    }

    /// How often the lifecycle and the open calls are looked at.
    var tickInterval: TimeAmount? {
        var periods = [lifecycle.tickInterval].compactMap { $0 }
        for limit in [configuration.messageTimeout, configuration.callIdleTimeout].compactMap({ $0 }) {
            periods.append(.nanoseconds(max(timeAmount(limit).nanoseconds / 6, 1_000_000_000)))
        }
        return periods.min()
    }

    /// Arms the wake-up for the earliest of the next tick and the earliest deadline.
    func rearm() {
        guard let timer else { return }
        var next = nextTick
        if let (deadline, _) = deadlines.earliest {
            let at = deadline.deadline
            if next.map({ at < $0 }) ?? true { next = at }
        }
        if let next, timer.deadline.map({ next != $0 }) ?? true { timer.arm(at: next) }
    }

    private func wokeUp() {
        guard !isClosed else { return }
        let now = NIODeadline.now()
        let instant = MonotonicInstant(nanoseconds: Int64(truncatingIfNeeded: now.uptimeNanoseconds))
        while let (deadline, id) = deadlines.earliest, deadline <= instant {
            deadlines.removeEarliest()
            guard let stream = streams[HTTP2StreamID(Int(id))] else { continue }
            // Calls ended at short deadlines are a rapid-reset flood without the RST_STREAMs
            // (swift-nio-http2 counts only those): policed as the native listener polices them.
            if stream.head.timeoutMicros < CancelPolicy.shortDeadlineMicros, !cutShort.received(at: instant) {
                observer?.refused(.grpc, reason: .rapidReset)
                return goAway(.enhanceYourCalm, "too many calls cut short: more than \(cutShort.maxCancels) within \(cutShort.window) ended at a deadline under \(CancelPolicy.shortDeadline)", close: true)
            }
            fail(stream, RPCError(.deadlineExceeded, "deadline exceeded (timeout was \(stream.head.timeoutMicros / 1000) ms)"))
        }
        if deadlines.needsSweep(liveCount: streams.count) {
            let open = streams
            deadlines.sweep { open[HTTP2StreamID(Int($0))] != nil }
        }
        if let tick = nextTick, now >= tick, let interval = tickInterval {
            nextTick = now + interval
            lifecycleTick()
            sweepStreams(now: now)
        }
        flushNow()
        rearm()
    }

    private func lifecycleTick() {
        switch lifecycle.tick(now: .now(), openCalls: streams.count) {
        case .none:
            break
        case .ping:
            write(HTTP2Frame(streamID: .rootStream, payload: .ping(Self.keepalivePing, ack: false)))
            flushNow()
        case .close(let reason):
            goAway(.noError, reason, close: true)
        }
    }

    /// Ends calls whose request message has been incomplete, or which have made no
    /// progress, for too long.
    private func sweepStreams(now: NIODeadline) {
        var due: [(GRPCServerStream, RPCError)] = []
        for stream in streams.values {
            if let limit = configuration.messageTimeout, let since = stream.incompleteSince, now - since >= timeAmount(limit) {
                due.append((stream, RPCError(.resourceExhausted,
                    "request message incomplete for over \(limit) (\(stream.deframer.bufferedBytes) bytes of it arrived); refused to free them")))
            } else if let idle = configuration.callIdleTimeout, !stream.requestClosed, now - stream.lastProgress >= timeAmount(idle) {
                due.append((stream, RPCError(.resourceExhausted,
                    "nothing was sent on this call, either way, for \(idle): the server ends calls that make no progress")))
            }
        }
        for (stream, error) in due where streams[stream.id] != nil { fail(stream, error) }
    }

    /// Deadlines of the calls this read batch opened that are still open.
    func armDeadlines() {
        guard !timersDue.isEmpty else { return }
        for id in timersDue { if let stream = streams[id] { armDeadline(stream) } }
        timersDue.removeAll(keepingCapacity: true)
    }

    func armDeadline(_ stream: GRPCServerStream) {
        guard let deadline = stream.deadline else { return }
        deadlines.insert(deadline, streamID: UInt32(Int(stream.id)))
        rearm()
    }

    /// A call opened: the sweep must run while calls are open.
    func noteStreamOpened() {
        if nextTick == nil, let interval = tickInterval {
            nextTick = .now() + interval
            rearm()
        }
    }

    // MARK: - Admission

    /// Why a new call is refused before anything is kept for it, if it is.
    func admissionRefusal(_ stream: GRPCServerStream) -> (RPCError, RefusalReason)? {
        if !account.admits(stream.openCost) {
            return (RPCError(.resourceExhausted, account.budget?.refusalMessage ?? ""), .memoryBudget)
        }
        if case .asynchronous = stream.method.handler, runningTasks >= configuration.maxHandlerTasks {
            return (RPCError(.resourceExhausted,
                             "\(runningTasks) handlers of this connection are still running or finishing; try again when they end"),
                    .handlerTasks)
        }
        return nil
    }

    // MARK: - Backpressure

    /// Whether the client leaves too many response bytes unread.
    var isOverOutboundAllowance: Bool {
        outboundBytes > configuration.connectionOutboundAllowance || !(context?.channel.isWritable ?? true)
    }

    /// Holds reads while the client leaves too many response bytes unread, so that pipelined
    /// calls cannot make the server queue responses without bound.
    func read(context: ChannelHandlerContext) {
        if isOverOutboundAllowance || paced {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        outboundDrained()
        context.fireChannelWritabilityChanged()
    }

    /// Responses went out: waiting synchronous calls run and held reads resume, on the next
    /// turn of the event loop (this is called while swift-nio-http2 flushes, which must not
    /// be written to from within).
    func outboundDrained() {
        guard !drainScheduled, let context, !deferredUnary.isEmpty || readPending else { return }
        drainScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            loopBound.value.drainScheduled = false
            loopBound.value.resumeAfterDrain()
        }
    }

    private func resumeAfterDrain() {
        guard !isClosed else { return }
        while !isOverOutboundAllowance, let id = deferredUnary.popFirst() {
            if let stream = streams[id] { runSynchronous(stream) }
        }
        scheduleFlush()
        if readPending, !isOverOutboundAllowance, !paced, let context {
            readPending = false
            context.read()
        }
    }

    /// The connection inflated more than its pace allows (`InflatePacing`): its frames wait
    /// for `delay`, and its reads are held meanwhile, so the loop serves the others.
    func pace(for delay: Duration) {
        guard !paced, let context else { return }
        let nanos = delay.saturatingNanoseconds
        paced = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .nanoseconds(nanos)) { loopBound.value.resumePaced() }
    }

    /// Handles the frames that waited, as a read of them, until the pace stops it again.
    private func resumePaced() {
        paced = false
        guard !isClosed else { return pacedFrames.removeAll() }
        inReadBatch = true
        while !paced, !isClosed, let frame = pacedFrames.popFirst() { handle(frame) }
        if isClosed { return pacedFrames.removeAll() }
        inReadBatch = false
        launchDueTasks()
        armDeadlines()
        flushNow()
        if !paced, readPending, !isOverOutboundAllowance, let context {
            readPending = false
            context.read()
        }
    }
}
