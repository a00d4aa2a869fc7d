import ConveneRPC
import NIOCore
import SwiftProtobuf

/// Sends typed responses of a streaming call.
public struct ResponseStreamWriter<Response: SwiftProtobuf.Message>: Sendable {
    public let raw: any ResponseWriter

    public init(raw: any ResponseWriter) { self.raw = raw }

    public func send(_ message: Response, compress: Bool = true) async throws {
        try await raw.send(message.serializedBuffer(), compress: compress)
    }

    public func send(_ message: Response, compression: ResponseCompression) async throws {
        try await raw.send(message.serializedBuffer(), compression: compression)
    }

    public func sendHeaders(_ metadata: Metadata) async throws {
        try await raw.sendHeaders(metadata)
    }

    public func setTrailers(_ metadata: Metadata) {
        raw.setTrailers(metadata)
    }
}

/// Typed requests of a client-streaming call.
public struct RequestMessages<Request: SwiftProtobuf.Message>: AsyncSequence, Sendable {
    public typealias Element = Request
    let raw: RequestStream

    public init(raw: RequestStream) { self.raw = raw }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var raw: RequestStream.AsyncIterator
        public mutating func next() async throws -> Request? {
            guard let buffer = try await raw.next() else { return nil }
            return try Request(checkedRequest: buffer)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(raw: raw.makeAsyncIterator()) }
}

extension RequestStream {
    /// The one message of a unary-request call.
    public func single() async throws -> ByteBuffer {
        var iterator = makeAsyncIterator()
        guard let first = try await iterator.next() else {
            throw RPCError(.internal, "expected one request message, got none")
        }
        guard try await iterator.next() == nil else {
            throw RPCError(.internal, "expected one request message, got more")
        }
        return first
    }
}

extension SwiftProtobuf.Message {
    /// A request as a handler gets it: decoded, and its texts checked (`RequestText`).
    init(checkedRequest buffer: ByteBuffer) throws(RPCError) {
        self = try Self(buffer: buffer)
        try RequestText.check(self)
    }
}

// Typed registration, one helper per kind, with the arguments in one order: the request (or
// requests), the response writer when the responses stream, then the call's context.
extension Router {
    /// A unary method answered on the event loop. Must not block.
    public func registerUnary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ descriptor: MethodDescriptor, owner: String = "builtin",
        _ body: @escaping @Sendable (Request, inout UnaryContext) throws -> Response
    ) throws {
        try register(descriptor, owner: owner, .synchronousUnary { buffer, context in
            try body(Request(checkedRequest: buffer), &context).serializedBuffer()
        })
    }

    /// A unary method run as a task, for work that suspends.
    public func registerAsyncUnary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ descriptor: MethodDescriptor, owner: String = "builtin",
        _ body: @escaping @Sendable (Request, ServerCallContext) async throws -> Response
    ) throws {
        try register(descriptor, owner: owner, .asynchronous { requests, writer, context in
            let request = try Request(checkedRequest: try await requests.single())
            let response = try await body(request, context)
            try await writer.send(response.serializedBuffer(), compress: true)
        })
    }

    public func registerServerStreaming<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ descriptor: MethodDescriptor, owner: String = "builtin",
        _ body: @escaping @Sendable (Request, ResponseStreamWriter<Response>, ServerCallContext) async throws -> Void
    ) throws {
        try register(descriptor, owner: owner, .asynchronous { requests, writer, context in
            let request = try Request(checkedRequest: try await requests.single())
            try await body(request, ResponseStreamWriter(raw: writer), context)
        })
    }

    public func registerClientStreaming<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ descriptor: MethodDescriptor, owner: String = "builtin",
        _ body: @escaping @Sendable (RequestMessages<Request>, ServerCallContext) async throws -> Response
    ) throws {
        try register(descriptor, owner: owner, .asynchronous { requests, writer, context in
            let response = try await body(RequestMessages(raw: requests), context)
            try await writer.send(response.serializedBuffer(), compress: true)
        })
    }

    public func registerBidirectional<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ descriptor: MethodDescriptor, owner: String = "builtin",
        _ body: @escaping @Sendable (RequestMessages<Request>, ResponseStreamWriter<Response>, ServerCallContext) async throws -> Void
    ) throws {
        try register(descriptor, owner: owner, .asynchronous { requests, writer, context in
            try await body(RequestMessages(raw: requests), ResponseStreamWriter(raw: writer), context)
        })
    }
}

extension MethodDescriptor {
    /// A descriptor with its message types taken from the generated types.
    public init<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        service: String, method: String, kind: MethodKind, request: Request.Type, response: Response.Type
    ) {
        self.init(service: service, method: method, kind: kind,
                  inputType: Request.protoMessageName, outputType: Response.protoMessageName)
    }
}
