import NIOCore

/// When a call must be finished by. Sent on the wire as a relative timeout.
public typealias Deadline = ContinuousClock.Instant

/// What a synchronous unary handler knows of its call, and what it may set on the response.
///
/// A synchronous handler runs on the connection's event loop and must not block; it is
/// the fast path for work that never suspends.
public struct UnaryContext: Sendable {
    public let method: MethodDescriptor
    public let requestMetadata: Metadata
    public let deadline: Deadline?
    /// The remote address, e.g. `127.0.0.1:50412`.
    public let peer: String
    /// Sent in HEADERS before the response (omitted when empty).
    public var responseHeaders = Metadata()
    /// Sent in END with status OK.
    public var responseTrailers = Metadata()
    /// Whether and when the response is compressed.
    public var responseCompression = ResponseCompression.whenNegotiated
    /// Whether the response may be compressed (it is only if the client asked for it).
    public var compressResponse: Bool {
        get { responseCompression != .never }
        set { responseCompression = newValue ? .whenNegotiated : .never }
    }
    /// How the request message arrived: identity, or the encoding it was compressed with.
    public var requestEncoding = MessageEncoding.identity
    /// The allocator the transport writes with; handlers may build responses with it.
    public let allocator: ByteBufferAllocator

    public init(method: MethodDescriptor, requestMetadata: Metadata, deadline: Deadline?, peer: String,
                allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.method = method
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.peer = peer
        self.allocator = allocator
    }
}

/// What an asynchronous handler knows of its call.
public struct ServerCallContext: Sendable {
    public let method: MethodDescriptor
    public let requestMetadata: Metadata
    public let deadline: Deadline?
    public let peer: String

    public init(method: MethodDescriptor, requestMetadata: Metadata, deadline: Deadline?, peer: String) {
        self.method = method
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.peer = peer
    }
}

/// Whether a response message is compressed.
public enum ResponseCompression: Sendable, Hashable {
    /// Never.
    case never
    /// When the client asked for it: on the native protocol, the CALL frame's response
    /// encoding; over gRPC, a request that was itself compressed (as gRPC servers answer
    /// in the client's algorithm).
    case whenNegotiated
    /// Whenever the client can decode it (over gRPC: any algorithm in grpc-accept-encoding).
    case always
}

/// The response side of an asynchronous call, provided by the transport.
///
/// `send` suspends while the peer's flow-control window is exhausted, so a handler
/// that streams cannot outrun a slow reader.
public protocol ResponseWriter: Sendable {
    /// Sends initial metadata; at most once, before the first message. Optional.
    func sendHeaders(_ metadata: Metadata) async throws
    /// Sends one message, compressed when `compress` and the client asked for compression.
    func send(_ message: ByteBuffer, compress: Bool) async throws
    /// Sends one message, compressed as `compression` says.
    func send(_ message: ByteBuffer, compression: ResponseCompression) async throws
    /// Sets the trailing metadata sent with status OK.
    func setTrailers(_ metadata: Metadata)
}

extension ResponseWriter {
    /// Transports that make no difference between `.whenNegotiated` and `.always`.
    public func send(_ message: ByteBuffer, compression: ResponseCompression) async throws {
        try await send(message, compress: compression != .never)
    }
}

/// The messages a client sends on a call, in order, as the transport receives them.
public struct RequestStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    private let base: AsyncThrowingStream<ByteBuffer, any Error>
    private let onConsumed: @Sendable (Int) -> Void

    /// `onConsumed` is told the size of each message the handler takes (for flow control).
    public init(_ base: AsyncThrowingStream<ByteBuffer, any Error>, onConsumed: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.base = base
        self.onConsumed = onConsumed
    }

    /// A stream of the given messages, for tests and in-memory calls.
    public static func of(_ messages: [ByteBuffer]) -> RequestStream {
        RequestStream(AsyncThrowingStream { continuation in
            for m in messages { continuation.yield(m) }
            continuation.finish()
        })
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
        let onConsumed: @Sendable (Int) -> Void

        public mutating func next() async throws -> ByteBuffer? {
            let message = try await base.next()
            if let message { onConsumed(message.readableBytes) }
            return message
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), onConsumed: onConsumed)
    }
}
