import ConveneRPC
import ConveneWire
import NIOCore

/// One call on a client connection. Confined to the connection's event loop.
final class ClientStream {
    enum Receiver {
        /// Unary-response: collect the one message, resume at END.
        case single(CheckedContinuation<UnaryResponse, any Error>)
        /// Streaming: hand messages to the consumer as they arrive.
        case stream(AsyncThrowingStream<ByteBuffer, any Error>.Continuation)
    }

    var id: UInt32 = 0
    let requestEncoding: MessageEncoding
    let timeoutMicros: UInt64
    var receiver: Receiver?
    var send: SendFlow<SendCompletion>
    var inbound: StreamInbound
    var headers: Metadata?
    var message: ByteBuffer?
    var timer: Scheduled<Void>?
    var end: CallEnd?
    let headersPromise: EventLoopPromise<Metadata>
    let endPromise: EventLoopPromise<CallEnd>
    /// The caller cancelled before the CALL frame was written.
    var cancelledBeforeStart = false

    init(options: CallOptions, local: Settings, peer: Settings, eventLoop: any EventLoop) {
        self.requestEncoding = options.requestCompression
        self.timeoutMicros = options.timeoutMicros
        self.send = SendFlow(window: peer.initialWindowSize)
        self.inbound = StreamInbound(local: local)
        self.headersPromise = eventLoop.makePromise()
        self.endPromise = eventLoop.makePromise()
    }

    var isEnded: Bool { end != nil }
}
