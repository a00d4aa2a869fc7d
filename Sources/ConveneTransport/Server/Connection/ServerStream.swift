import ConveneRPC
import ConveneWire
import NIOCore

/// One call on a server connection while it is open or half-closed (a closed call leaves
/// the connection's table). A value: the state machine takes it out of the table to work
/// on it and puts it back while it stays open.
struct ServerStream<Completion> {
    let id: UInt32
    /// `.open` or `.halfClosed`.
    var state: StreamState
    let method: RegisteredMethod
    let metadata: Metadata
    let deadline: MonotonicInstant?
    /// The timeout the server enforces (clamped), for the DEADLINE_EXCEEDED message.
    let timeoutMicros: UInt64
    /// Encoding for compressed responses; identity when the client asked for none or cannot decode it.
    let responseEncoding: MessageEncoding
    var inbound: StreamInbound
    var send: SendFlow<Completion>
    var requestsReceived = 0
    var headersSent = false
    /// Synchronous and deferred unary: the one request message, kept until END_STREAM.
    var unaryRequest: InboundMessage?
    /// Trailers an asynchronous handler set for its OK END.
    var trailers = Metadata()
    /// END waiting for queued messages to go out.
    var pendingEnd: CallEnd?
    /// What the call's metadata and path, and keeping it open (`OpenCallCost`), count against
    /// the memory budget while it is open.
    let openCost: Int
    /// What the room reserved for an incomplete request message counts against the budget now.
    var roomCharged = 0
    /// Since when a request message has been incomplete (the message timeout counts from here).
    var incompleteSince: MonotonicInstant?
    /// When a frame of the call last arrived or a response of it last went out (the call idle limit).
    var lastProgress: MonotonicInstant
    /// When the call opened, for its duration (kept only when the method is instrumented).
    let opened: MonotonicInstant?

    init(id: UInt32, method: RegisteredMethod, start: CallStart, responseEncoding: MessageEncoding,
         now: MonotonicInstant, local: Settings, peer: Settings, openCost: Int) {
        self.id = id
        self.openCost = openCost
        self.lastProgress = now
        self.opened = method.instrument == nil ? nil : now
        self.state = .open
        self.method = method
        self.metadata = start.metadata
        self.timeoutMicros = start.enforcedTimeoutMicros
        // At most 365 days (CallStart.maxTimeoutMicros): the arithmetic cannot overflow.
        self.deadline = timeoutMicros == 0 ? nil : now.advanced(byMicroseconds: timeoutMicros)
        self.responseEncoding = responseEncoding
        self.inbound = StreamInbound(local: local)
        self.send = SendFlow(window: peer.initialWindowSize)
    }

    /// Whether the one request message is kept for the handler (synchronous and deferred
    /// unary) rather than handed to a running task.
    var isSynchronous: Bool {
        switch method.handler {
        case .synchronousUnary, .deferredUnary: true
        case .asynchronous: false
        }
    }

    /// Whether a handler may still be running apart from the event loop when the call ends
    /// (a task, or deferred work), and must be told.
    var handlerRunsApart: Bool {
        switch method.handler {
        case .synchronousUnary: false
        case .deferredUnary, .asynchronous: true
        }
    }

    var kind: MethodKind { method.descriptor.kind }

    /// Tells the method's instrument (metrics) how and when the call ended.
    func ended(_ code: StatusCode, now: MonotonicInstant) {
        if let instrument = method.instrument, let opened {
            instrument.callEnded(transport: .native, code: code, duration: now - opened)
        }
    }
}
