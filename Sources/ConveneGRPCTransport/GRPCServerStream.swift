import ConveneRPC
import ConveneWire
import NIOCore
import NIOHTTP2

/// One gRPC call on an HTTP/2 connection. Confined to the connection's event loop.
final class GRPCServerStream {
    let id: HTTP2StreamID
    let method: RegisteredMethod
    let head: GRPCRequestHead
    let deadline: Deadline?
    /// When the call opened, for its duration (read only when the method is instrumented).
    let opened: ContinuousClock.Instant?
    var deframer: MessageDeframer
    var inbound: InboundWindow
    var timer: Scheduled<Void>?
    var requestClosed = false
    var messagesReceived = 0
    var headersSent = false
    /// Synchronous unary: the one request message.
    var unaryRequest: ByteBuffer?
    var unaryRequestEncoding = MessageEncoding.identity
    /// Asynchronous: the request messages' sink and the handler's task.
    var requests: AsyncThrowingStream<ByteBuffer, any Error>.Continuation?
    var task: Task<Void, Never>?
    /// Deferred unary: how the handler answers, until it has (or the call ended first).
    var deferred: DeferredCompletion?
    var trailers = Metadata()
    /// Flow-controlled bytes received, credited back, and held in messages a task has not
    /// taken yet (their wire sizes, oldest first).
    private(set) var receivedBytes = 0
    private var creditedBytes = 0
    private var queuedWireSizes: [Int] = []
    private var queuedHead = 0
    private var queuedBytes = 0
    /// Response bytes written to HTTP/2 but not yet on the socket; `send` waits while this
    /// is over the connection's per-stream allowance.
    var unflushedBytes = 0
    /// A handler's send waiting for `unflushedBytes` to fall.
    var parkedSend: CheckedContinuation<Void, any Error>?

    init(id: HTTP2StreamID, method: RegisteredMethod, head: GRPCRequestHead, maxMessageSize: UInt32, window: Int) {
        self.id = id
        self.method = method
        self.head = head
        self.deadline = head.timeoutMicros == 0 ? nil
            : ContinuousClock.now.advanced(by: .microseconds(Int64(head.timeoutMicros)))
        self.opened = method.instrument == nil ? nil : .now
        self.deframer = MessageDeframer(maxMessageSize: maxMessageSize)
        self.inbound = InboundWindow(target: window)
    }

    func addReceived(_ bytes: Int) { receivedBytes += bytes }

    func queue(wireSize: Int) {
        queuedWireSizes.append(wireSize)
        queuedBytes += wireSize
    }

    func dequeueOne() {
        guard queuedHead < queuedWireSizes.count else { return }
        queuedBytes -= queuedWireSizes[queuedHead]
        queuedHead += 1
        if queuedHead == queuedWireSizes.count {
            queuedWireSizes.removeAll(keepingCapacity: true)
            queuedHead = 0
        }
    }

    /// Bytes that may be credited back now: all received but the queued messages.
    func takeCreditable() -> Int {
        let bytes = receivedBytes - queuedBytes - creditedBytes
        guard bytes > 0 else { return 0 }
        creditedBytes += bytes
        return bytes
    }

    /// Everything not credited yet, for a call that has ended.
    func takeAllUncredited() -> Int {
        let bytes = receivedBytes - creditedBytes
        creditedBytes = receivedBytes
        return max(0, bytes)
    }

    /// Tells the method's instrument how the call ended.
    func ended(_ code: StatusCode) {
        if let instrument = method.instrument, let opened {
            instrument.callEnded(transport: .grpc, code: code, duration: .now - opened)
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
