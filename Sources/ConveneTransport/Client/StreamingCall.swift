import ConveneRPC
import ConveneWire
import NIOCore

/// A call in progress with streaming on either side.
///
/// Send requests with `send`, end them with `finish`; iterate `responses` until it ends
/// (it throws the call's error status); `end` gives status and trailers.
public final class StreamingCall: Sendable {
    let handler: NIOLoopBound<ClientConnectionHandler>
    let stream: NIOLoopBound<ClientStream>
    private let rawResponses: AsyncThrowingStream<ByteBuffer, any Error>
    private let headersFuture: EventLoopFuture<Metadata>
    private let endFuture: EventLoopFuture<CallEnd>

    init(handler: NIOLoopBound<ClientConnectionHandler>, stream: NIOLoopBound<ClientStream>,
         headers: EventLoopFuture<Metadata>, end: EventLoopFuture<CallEnd>,
         responses: AsyncThrowingStream<ByteBuffer, any Error>) {
        self.handler = handler
        self.stream = stream
        self.headersFuture = headers
        self.endFuture = end
        self.rawResponses = responses
    }

    var eventLoop: any EventLoop { handler.eventLoop }

    /// Sends one request message; suspends while the server's flow-control window is full.
    public func send(_ message: ByteBuffer, compress: Bool = true) async throws {
        try await enqueue(message, compress: compress, endStream: false)
    }

    /// Sends a last message and ends the requests.
    public func sendLast(_ message: ByteBuffer, compress: Bool = true) async throws {
        try await enqueue(message, compress: compress, endStream: true)
    }

    /// Ends the requests (half-close). A no-op once the call has ended: its status comes
    /// with `responses` and `end`.
    public func finish() async throws {
        try await enqueue(nil, compress: false, endStream: true)
    }

    private func enqueue(_ message: ByteBuffer?, compress: Bool, endStream: Bool) async throws {
        try await waitForSend { completion in
            eventLoop.execute { [handler, stream] in
                handler.value.enqueue(stream.value, message, compress: compress, endStream: endStream,
                                      completion: completion)
            }
        }
    }

    /// The response messages; ends when the call ends, throwing its error status if not OK.
    /// Iterate it once.
    public var responses: ResponseMessages {
        ResponseMessages(base: rawResponses, onConsumed: { [handler, stream, eventLoop] in
            eventLoop.execute { handler.value.consumed(stream.value) }
        })
    }

    /// The server's initial metadata (empty if it sent none).
    public var headers: Metadata {
        get async throws { try await headersFuture.get() }
    }

    /// The call's end: status code, message, trailers. Waits for it.
    public var end: CallEnd {
        get async { try! await endFuture.get() }  // never failed: a lost connection ends as UNAVAILABLE
    }

    /// Cancels the call: the server's handler is cancelled and the responses end with CANCELLED.
    public func cancel() {
        eventLoop.execute { [handler, stream] in handler.value.cancel(stream.value) }
    }
}

/// Response messages of a streaming call.
public struct ResponseMessages: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let base: AsyncThrowingStream<ByteBuffer, any Error>
    let onConsumed: @Sendable () -> Void

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
        let onConsumed: @Sendable () -> Void

        public mutating func next() async throws -> ByteBuffer? {
            let message = try await base.next()
            if message != nil { onConsumed() }
            return message
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), onConsumed: onConsumed)
    }
}
