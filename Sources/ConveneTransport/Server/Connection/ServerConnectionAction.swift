import ConveneRPC
import ConveneWire
import NIOCore

/// What the channel handler does for the state machine, besides writing the frames the
/// machine collects in its output. `Completion` is whoever waits for a response message to
/// go out (a continuation in the server, a token in tests).
enum ServerConnectionAction<Completion> {
    /// Run a synchronous unary handler now, on the event loop, and report its result with
    /// `synchronousHandlerReturned`.
    case runSynchronous(SynchronousCall)
    /// Start the task of an asynchronous handler.
    case startHandler(AsynchronousCall)
    /// Hand a deferred unary call to its handler, which answers later from any thread
    /// (reported with `synchronousHandlerReturned`).
    case runDeferred(DeferredCall)
    /// Hand a request message to the call's running handler.
    case deliverRequest(streamID: UInt32, ByteBuffer)
    /// The client sends no more requests: end the handler's request stream.
    case finishRequests(streamID: UInt32)
    /// The call ended while its handler may still run (deadline, CANCEL, a fault, the
    /// connection closing): fail its request stream with `error` and cancel its task, or
    /// tell a deferred handler the caller stopped waiting.
    case cancelHandler(streamID: UInt32, RPCError)
    /// A response message (or HEADERS) went to the output: resume its writer.
    case completeSend(Completion)
    /// A response message will never be sent.
    case failSend(Completion, RPCError)
    /// Tick the machine at this instant (earlier than any wake-up asked for before).
    case scheduleWakeUp(at: MonotonicInstant)
    /// Write what the output holds, then close the connection; `reason` is for the log.
    case close(reason: String)
}

/// A synchronous unary call ready to run: its request and what its handler may know.
struct SynchronousCall {
    let streamID: UInt32
    let body: @Sendable (ByteBuffer, inout UnaryContext) throws -> ByteBuffer
    let method: MethodDescriptor
    let metadata: Metadata
    let deadline: MonotonicInstant?
    let request: ByteBuffer
    let requestEncoding: MessageEncoding
}

/// What a synchronous handler returned besides its message.
struct SynchronousResponse {
    var message: ByteBuffer
    var headers = Metadata()
    var trailers = Metadata()
    /// Whether the handler allows compression (it happens only if the client asked for it).
    var compress = true
}

/// A deferred unary call whose request is in.
struct DeferredCall {
    let streamID: UInt32
    let body: @Sendable (ByteBuffer, ServerCallContext, any UnaryCompletion) -> Void
    let method: MethodDescriptor
    let metadata: Metadata
    let deadline: MonotonicInstant?
    let request: ByteBuffer
}

/// An asynchronous call ready to start.
struct AsynchronousCall {
    let streamID: UInt32
    let body: @Sendable (RequestStream, any ResponseWriter, ServerCallContext) async throws -> Void
    let method: MethodDescriptor
    let metadata: Metadata
    let deadline: MonotonicInstant?
    let responseEncoding: MessageEncoding
}
