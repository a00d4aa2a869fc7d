import ConveneRPC
import ConveneTransport
import ConveneWire
import NIOCore
import NIOHTTP2

/// One gRPC call on an HTTP/2 connection. Confined to the connection's event loop.
final class GRPCServerStream {
    let id: HTTP2StreamID
    let method: RegisteredMethod
    let head: GRPCRequestHead
    let deadline: MonotonicInstant?
    /// When the call opened, for its duration (read only when the method is instrumented).
    let opened: MonotonicInstant?
    var deframer: MessageDeframer
    var inbound: InboundWindow
    var requestClosed = false
    var messagesReceived = 0
    /// DATA payload bytes received (padding not counted), checked against `head.contentLength`.
    var contentReceived = 0
    var headersSent = false
    /// Synchronous unary: the one request message.
    var unaryRequest: ByteBuffer?
    var unaryRequestEncoding = MessageEncoding.identity
    /// Asynchronous: the request messages' sink and the handler's task.
    var requests: AsyncThrowingStream<ByteBuffer, any Error>.Continuation?
    var task: Task<Void, Never>?
    /// The handler's task, waiting to start at the end of the read that opened the call.
    var launch: (@Sendable () async -> Void)?
    /// Deferred unary: how the handler answers, until it has (or the call ended first).
    var deferred: DeferredCompletion?
    var trailers = Metadata()
    /// What the call's headers, and keeping it open (`OpenCallCost`), count against the memory
    /// budget while it is open.
    let openCost: Int
    /// Since when a request message has been incomplete (the message timeout counts from here).
    var incompleteSince: NIODeadline?
    /// When a frame of the call last arrived or a response of it last went out.
    var lastProgress: NIODeadline
    /// Flow-controlled bytes received; credited back to the stream's window; given back to
    /// the memory budget; held in messages a handler has not taken yet (wire sizes and
    /// reserved room, oldest first).
    private(set) var receivedBytes = 0
    private var streamCredited = 0
    private var released = 0
    private var queued = CircularBuffer<(wireSize: Int, reserved: Int)>()
    private var queuedBytes = 0
    private var queuedUnreservedBytes = 0
    /// Room reserved on the connection for the message being received (its wire size); 0
    /// while it has none (`GRPCRequestReservations`).
    private(set) var currentReservation = 0
    /// The room this call waits for, 0 if it waits for none.
    var awaitedReservation = 0
    /// Reserved room not yet given back: the current message's and that of messages not taken.
    private(set) var reservedHeld = 0
    /// Messages handed to the asynchronous handler and not yet taken, each counted against
    /// the memory budget for what keeping it costs (`KeptMessage.overhead`).
    var keptForHandler = 0
    /// Response bytes written to HTTP/2 but not yet on the socket; `send` waits while this
    /// is over the connection's per-stream allowance.
    var unflushedBytes = 0
    /// A handler's send waiting for `unflushedBytes` to fall.
    var parkedSend: CheckedContinuation<Void, any Error>?

    init(id: HTTP2StreamID, method: RegisteredMethod, head: GRPCRequestHead, maxMessageSize: UInt32, window: Int,
         now: NIODeadline) {
        self.id = id
        self.openCost = head.metadata.countedSize + head.path.utf8.count + Metadata.entryOverhead + OpenCallCost.of(method)
        self.lastProgress = now
        self.method = method
        self.head = head
        self.deadline = head.timeoutMicros == 0 ? nil
            : MonotonicInstant.now.advanced(by: .microseconds(Int64(head.timeoutMicros)))
        self.opened = method.instrument == nil ? nil : .now
        self.deframer = MessageDeframer(maxMessageSize: maxMessageSize)
        self.inbound = InboundWindow(target: window)
    }

    func addReceived(_ bytes: Int) { receivedBytes += bytes }

    /// The message being received has room for all of it.
    func grantReservation(_ bytes: Int) {
        awaitedReservation = 0
        currentReservation = bytes
        reservedHeld += bytes
    }

    /// A whole message is kept for the handler (with the room reserved for it, if any).
    func queue(wireSize: Int) {
        let reserved = currentReservation
        currentReservation = 0
        queued.append((wireSize, reserved))
        queuedBytes += wireSize
        if reserved == 0 { queuedUnreservedBytes += wireSize }
    }

    /// The handler took the oldest message; answers the reserved room it gives back.
    func dequeueOne() -> Int {
        guard let (wireSize, reserved) = queued.popFirst() else { return 0 }
        queuedBytes -= wireSize
        if reserved == 0 { queuedUnreservedBytes -= wireSize }
        reservedHeld -= reserved
        return reserved
    }

    /// Window the stream may get back now: every byte received except those of messages not
    /// taken and of an incomplete message, unless they have reserved room; and, when the
    /// message being received has room, in advance the rest of it (so it arrives at once).
    func takeStreamCreditable() -> Int {
        let incomplete = deframer.bufferedBytes
        let current = currentReservation > 0 ? currentReservation - incomplete : -incomplete
        let bytes = receivedBytes + current - queuedUnreservedBytes - streamCredited
        guard bytes > 0 else { return 0 }
        streamCredited += bytes
        return bytes
    }

    /// Bytes the memory budget may get back now: all received but the messages not taken
    /// and the bytes of an incomplete message.
    func takeReleasable() -> Int {
        let bytes = receivedBytes - queuedBytes - deframer.bufferedBytes - released
        guard bytes > 0 else { return 0 }
        released += bytes
        return bytes
    }

    /// Everything the budget has not had back yet, for a call that has ended.
    func takeAllUnreleased() -> Int {
        let bytes = receivedBytes - released
        released = receivedBytes
        return max(0, bytes)
    }

    /// Tells the method's instrument how the call ended.
    func ended(_ code: StatusCode) {
        if let instrument = method.instrument, let opened {
            instrument.callEnded(transport: .grpc, code: code, duration: MonotonicInstant.now - opened)
        }
    }

    /// Whether the one request message is kept for the handler (synchronous and deferred
    /// unary) rather than streamed to a task.
    var isSynchronous: Bool {
        switch method.handler {
        case .synchronousUnary, .deferredUnary: true
        case .asynchronous: false
        }
    }
}

/// The inbound flow-control window of one stream (or of the connection), from the receiver's
/// side: bytes are credited back to the sender once consumed, in increments of at least half
/// the target so that WINDOW_UPDATE frames stay few.
struct InboundWindow {
    let target: Int
    /// What the peer may still send.
    private(set) var remaining: Int
    /// Consumed bytes not yet credited back.
    private var owed = 0

    init(target: Int, initial: Int? = nil) {
        self.target = target
        self.remaining = initial ?? target
    }

    mutating func received(_ bytes: Int) {
        remaining -= bytes
    }

    /// Records `bytes` as consumed; returns the increment to send now, if any.
    mutating func consumed(_ bytes: Int) -> Int? {
        owed += bytes
        guard owed > 0, owed >= target / 2 || remaining < target / 2 else { return nil }
        let increment = min(owed, Int(Int32.max) - max(remaining, 0))
        guard increment > 0 else { return nil }
        owed -= increment
        remaining += increment
        return increment
    }
}
