import ConveneRPC
import ConveneWire
import NIOCore

/// One call on a server connection. Confined to the connection's event loop.
final class ServerStream {
    let id: UInt32
    let method: RegisteredMethod
    let metadata: Metadata
    let deadline: Deadline?
    let timeoutMicros: UInt64
    /// Encoding for compressed responses; identity when the client asked for none or cannot decode it.
    let responseEncoding: MessageEncoding
    var deframer: MessageDeframer
    var receive: ReceiveFlow
    var send: SendFlow
    var timer: Scheduled<Void>?
    var requestClosed = false
    var messagesReceived = 0
    var headersSent = false
    /// Synchronous unary: the one request message, and whether it came compressed.
    var unaryRequest: ByteBuffer?
    var unaryRequestEncoding = MessageEncoding.identity
    /// Asynchronous: the request messages' sink and the handler's task.
    var requests: AsyncThrowingStream<ByteBuffer, any Error>.Continuation?
    var task: Task<Void, Never>?
    /// Deferred unary: how the handler answers (and learns that the call ended without it).
    var deferred: DeferredCompletion?
    var trailers = Metadata()
    /// END waiting until queued messages have been sent.
    var pendingEnd: CallEnd?

    init(id: UInt32, method: RegisteredMethod, start: CallStart, responseEncoding: MessageEncoding,
         local: Settings, peer: Settings) {
        self.id = id
        self.method = method
        self.metadata = start.metadata
        self.timeoutMicros = start.enforcedTimeoutMicros
        self.deadline = timeoutMicros == 0 ? nil
            : ContinuousClock.now.advanced(by: .microseconds(Int64(timeoutMicros)))
        self.responseEncoding = responseEncoding
        self.deframer = MessageDeframer(maxMessageSize: local.maxMessageSize)
        self.receive = ReceiveFlow(window: local.initialWindowSize)
        self.send = SendFlow(window: peer.initialWindowSize)
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
