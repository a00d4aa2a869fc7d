import ConveneRPC
import ConveneWire
import NIOCore

/// One server connection as a state machine, with no channel, no event loop and no clock
/// of its own.
///
/// It owns the handshake, the calls and their states (`StreamState`), flow control, PING
/// policing, keepalive, the handshake, frame and idle timeouts, call deadlines and the
/// drain. Its inputs carry the current time (`receive(_:now:)`, `tick(now:)`,
/// `handlerFinished(streamID:_:now:)`, `drain(now:)`, ...). It answers in two ways: the
/// frames to write, collected in its output (`takeOutput()`), and the actions for the
/// channel handler (`nextAction()`): run or cancel a call's handler, resume a writer, wake
/// me at T, close. Every fault it finds goes through `ConnectionFault.disposition`.
///
/// A read batch is: `receivePreface`/`receive`/`receiveError` for what the read
/// completed, `readParsed` after each read, and `readComplete` at the end of the batch
/// (which arms the deadlines of calls still open and asks for the next wake-up).
///
/// The extensions, one concern each: `+Frames` (handshake and connection frames), `+Calls`
/// (frames of a call), `+Responses` (what handlers send), `+Timers` (timeouts and wake-ups),
/// `+Resources` (the connection window, the memory budget, outbound backpressure).
struct ServerConnectionStateMachine<Completion> {
    enum Phase: Hashable, Sendable {
        case awaitingPreface
        /// The client's preface came; its SETTINGS must be the next frame.
        case awaitingSettings
        case active
        /// GOAWAY sent or received: no new calls; closes when the last open call ends.
        case draining
        case closed
    }

    typealias Action = ServerConnectionAction<Completion>
    typealias Instant = MonotonicInstant

    let configuration: ConnectionConfiguration
    let router: Router
    let allocator: ByteBufferAllocator
    /// Told of every GOAWAY sent and every refusal (`ConnectionFault.refusal`), for metrics.
    let observer: (any ConnectionObserver)?
    var phase = Phase.awaitingPreface
    /// The peer's limits on what we send; defaults until its SETTINGS arrive.
    var peerSettings = Settings()
    /// Open and half-closed calls; a closed call leaves the table.
    var streams: [UInt32: ServerStream<Completion>] = [:]

    /// Reads a field of stream `id` in place: `streams[id]?.field` copies the whole stream
    /// first (a retain and a release of each of its references), on every deferred answer.
    func stream<Field>(_ id: UInt32, _ field: (borrowing ServerStream<Completion>) -> Field) -> Field? {
        guard let index = streams.index(forKey: id) else { return nil }
        return field(streams.values[index])
    }
    /// The methods this connection called last (admitted without the router's lock).
    var routes = RouteCache()
    /// The highest stream id of any CALL (ids must grow).
    var highestStreamID: UInt32 = 0
    /// The highest stream id of a CALL the server processed (answered or running): GOAWAY's last stream id.
    var lastProcessedStreamID: UInt32 = 0
    var output: FrameOutput
    var actions = ActionQueue<Action>()
    var prefaceSent = false
    var goAwaySent = false

    // Resources (see +Resources).
    /// What the client lets us send over all streams (set by its first SETTINGS).
    var connectionSend = ConnectionSendWindow(window: Settings.defaultConnectionWindowSize)
    /// What we let the client send over all streams, and what it holds.
    var connectionReceive: ConnectionReceiveWindow
    /// This connection's part of the server's memory budget.
    var account: BudgetAccount
    /// Response bytes waiting in the streams' queues for flow-control credit.
    var outboundQueued = 0
    /// Response bytes in the socket's queue, as the handler last read them.
    var channelPending = 0
    /// Response bytes in `output` charged to the budget (`noteCollected`).
    var collectedCharged = 0
    /// Handler tasks started and not finished, cancelled ones still finishing included.
    var runningHandlers = 0
    /// Bytes inflated from compressed requests since the handler last took the count
    /// (`ServerConnectionHandler`, which paces a connection's inflating).
    var inflatedUntaken = 0
    /// Synchronous calls whose request is whole, waiting to run until the responses queued
    /// for the client's credit fall under `maxOutboundBuffered`, oldest first.
    var deferredSynchronous = LazyQueue<UInt32>()

    // Timers (see +Timers).
    var handshakeDeadline: Instant
    var incompleteFrameSince: Instant?
    /// When a call last opened or ended: the idle timeout counts from here.
    var lastActivity: Instant
    var keepalive: Keepalive
    var pingPolicy: PingPolicy
    /// SETTINGS are policed as PINGs are (PROTOCOL.md §2.1): each one is answered with an ACK.
    var settingsPolicy: PingPolicy
    var cancelPolicy: CancelPolicy
    /// Frames that changed nothing, counted in windows as CANCELs are (`noteNoEffect`).
    var noEffectFrames: CancelPolicy
    /// WINDOW_UPDATEs received, against `windowUpdateAllowance` and the DATA frames sent.
    var windowUpdatesReceived = 0
    /// The client acknowledged our SETTINGS (we send one): a later acknowledgement changes nothing.
    var settingsAcknowledged = false
    var deadlines = DeadlineQueue()
    /// Calls opened in this read batch that have a deadline, armed at its end if still open.
    var deadlinesToArm: [UInt32] = []
    /// The wake-up last asked of the handler, not yet come.
    var requestedWakeUp: Instant?
    /// When the open calls are next checked for incomplete messages and idleness.
    var nextSweep: Instant?

    init(configuration: ConnectionConfiguration, router: Router, allocator: ByteBufferAllocator, now: Instant,
         observer: (any ConnectionObserver)? = nil) {
        self.observer = observer
        self.configuration = configuration
        self.router = router
        self.allocator = allocator
        self.output = FrameOutput(allocator: allocator)
        self.connectionReceive = ConnectionReceiveWindow(window: configuration.settings.connectionWindowSize)
        self.account = BudgetAccount(budget: configuration.budget)
        self.handshakeDeadline = now + configuration.handshakeTimeout
        self.lastActivity = now
        self.keepalive = Keepalive(interval: configuration.keepaliveInterval, timeout: configuration.keepaliveTimeout, start: now)
        self.pingPolicy = PingPolicy(minInterval: configuration.minPingInterval, maxStrikes: configuration.maxPingStrikes)
        self.settingsPolicy = PingPolicy(minInterval: configuration.minPingInterval, maxStrikes: configuration.maxPingStrikes)
        self.cancelPolicy = CancelPolicy(maxCancels: configuration.maxCancels, window: configuration.cancelWindow)
        self.noEffectFrames = CancelPolicy(maxCancels: configuration.maxNoEffectFrames, window: configuration.noEffectWindow)
    }

    /// Counts a frame that changed nothing; past `maxNoEffectFrames` within `noEffectWindow`,
    /// a flood that closes the connection (false then).
    @discardableResult
    mutating func noteNoEffect(now: Instant) -> Bool {
        guard !noEffectFrames.received(at: now) else { return true }
        fault(.noEffectFlood(maxFrames: noEffectFrames.maxCancels, window: noEffectFrames.window), now: now)
        return false
    }

    // MARK: - Reading the answers

    /// The next thing the channel handler must do, oldest first.
    mutating func nextAction() -> Action? {
        actions.pop()
    }

    var hasOutput: Bool { !output.isEmpty }

    /// The frames collected since the last call, for one write.
    mutating func takeOutput() -> CollectedFrames {
        if collectedCharged > 0 {
            account.release(collectedCharged)
            collectedCharged = 0
        }
        return output.take()
    }

    /// Whether frames from the client are still processed.
    var isReading: Bool { phase != .closed }

    /// The state of stream `id` as PROTOCOL.md §6 names it.
    func streamState(_ id: UInt32) -> StreamState {
        if let stream = streams[id] { return stream.state }
        return id > highestStreamID ? .idle : .closed
    }

    // MARK: - Lifecycle inputs

    /// The connection is up: the handshake timeout starts. A connection refused at once
    /// (over the connection limit) gets the preface and GOAWAY OVERLOADED.
    mutating func start(now: Instant, refusal: String? = nil) {
        handshakeDeadline = now + configuration.handshakeTimeout
        lastActivity = now
        keepalive.heard(at: now)
        if let refusal { return fault(.overloaded(refusal), now: now) }
        requestWakeUp()
    }

    /// Graceful shutdown: GOAWAY NO_ERROR with the last processed call, no new calls, close
    /// once the open ones end.
    mutating func drain(now: Instant) {
        switch phase {
        case .awaitingPreface:
            closeConnection(.noError, "server is shutting down")
        case .awaitingSettings, .active, .draining:
            phase = .draining
            sendGoAway(.noError, "server is shutting down")
            closeIfDrained()
        case .closed:
            break
        }
    }

    /// The channel closed under us: every call ends with UNAVAILABLE.
    mutating func connectionClosed() {
        if phase != .closed {
            phase = .closed
            abandonAll(RPCError(.unavailable, "connection closed"))
        }
        // Whatever the connection held goes back to the budget.
        account.close()
    }

    // MARK: - Faults and endings (shared by the extensions)

    /// Applies a fault whose stream, if any, is still in the table (or was never entered).
    mutating func fault(_ fault: ConnectionFault, now: Instant) {
        if let reason = fault.refusal { observer?.refused(.native, reason: reason) }
        switch fault.disposition {
        case .ignore:
            noteNoEffect(now: now)
        case .endCall(let code):
            guard let id = fault.streamID else { return }
            let error = RPCError(code, fault.message)
            if let stream = streams.removeValue(forKey: id) {
                end(consume stream, error, now: now)
            } else {
                writeEnd(streamID: id, CallEnd(code: code, message: fault.message))
            }
        case .closeConnection(let code):
            closeConnection(code, fault.message)
        }
    }

    /// Applies a fault found while working on `stream`, taken out of the table.
    mutating func fault(_ fault: ConnectionFault, on stream: consuming ServerStream<Completion>, now: Instant) {
        if let reason = fault.refusal { observer?.refused(.native, reason: reason) }
        switch fault.disposition {
        case .ignore:
            let id = stream.id
            streams[id] = consume stream
            noteNoEffect(now: now)
        case .endCall(let code):
            end(consume stream, RPCError(code, fault.message), now: now)
        case .closeConnection(let code):
            let id = stream.id
            streams[id] = consume stream
            closeConnection(code, fault.message)
        }
    }

    /// Ends a call (out of the table) with an error END, stopping its handler.
    mutating func end(_ stream: consuming ServerStream<Completion>, _ error: RPCError, now: Instant) {
        writeEnd(streamID: stream.id, CallEnd(code: error.code, message: error.message, trailers: error.metadata))
        abandon(&stream, error)
        closed(consume stream, error.code, now: now)
    }

    /// A call left the table with `code`: its method's metrics are told, what it held is
    /// released, the idle timeout restarts, and a draining connection may close.
    mutating func closed(_ stream: consuming ServerStream<Completion>, _ code: StatusCode, now: Instant) {
        stream.ended(code, now: now)
        if stream.inbound.keptMessages > 0 { account.release(stream.inbound.keptMessages * KeptMessage.overhead) }
        account.update(&stream.roomCharged, to: 0)
        releaseInbound(stream.inbound.releaseAll())
        account.release(stream.openCost)
        lastActivity = now
        closeIfDrained()
    }

    /// Stops a call's handler and fails its waiting writers, without writing anything; its
    /// queued output is dropped at once.
    mutating func abandon(_ stream: inout ServerStream<Completion>, _ error: RPCError) {
        if stream.handlerRunsApart { actions.append(.cancelHandler(streamID: stream.id, error)) }
        let queued = stream.send.queuedBytes
        for message in stream.send.removeAll(connection: &connectionSend) {
            if let completion = message.completion { actions.append(.failSend(completion, error)) }
        }
        noteQueued(-queued)
    }

    /// Abandons every call (the connection is going), in stream order.
    mutating func abandonAll(_ error: RPCError) {
        let open = streams.values.sorted { $0.id < $1.id }
        streams.removeAll()
        let now = MonotonicInstant.now  // only for the metrics of the calls cut short
        for var stream in open {
            stream.ended(error.code, now: now)
            abandon(&stream, error)
        }
        connectionSend = ConnectionSendWindow(window: 0)
    }

    mutating func write(_ frame: Frame) {
        output.withBuffer { $0.writeFrame(frame) }
    }

    mutating func writeEnd(streamID: UInt32, _ end: CallEnd) {
        output.withBuffer { $0.writeEndFrame(streamID: streamID, end) }
    }

    /// GOAWAY with the last processed call, once per connection unless an error follows a drain.
    mutating func sendGoAway(_ code: GoAwayCode, _ message: String) {
        guard !goAwaySent || code != .noError else { return }
        goAwaySent = true
        observer?.goAway(.native, code: code.description)
        writePrefaceIfNeeded()
        write(.goAway(GoAway(lastStreamID: lastProcessedStreamID, code: code, message: message)))
    }

    /// GOAWAY, every call ended with UNAVAILABLE, then close.
    mutating func closeConnection(_ code: GoAwayCode, _ message: String) {
        guard phase != .closed else { return }
        sendGoAway(code, message)
        phase = .closed
        abandonAll(RPCError(.unavailable, "connection closed: \(message)"))
        actions.append(.close(reason: "\(code): \(message)"))
    }

    mutating func closeIfDrained() {
        guard phase == .draining, streams.isEmpty else { return }
        phase = .closed
        actions.append(.close(reason: "drained"))
    }

    /// Our preface goes out once, before any frame, even when the first frame is a refusal.
    mutating func writePrefaceIfNeeded() {
        guard !prefaceSent else { return }
        prefaceSent = true
        output.withBuffer { $0.writePreface(.current) }
    }
}
