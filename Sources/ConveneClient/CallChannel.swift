import ConveneProtobuf
import ConveneRPC
import ConveneTransport
import ConveneWire
import NIOCore
import SwiftProtobuf

/// What calls travel through: a connection to a server (`ConveneClient`), or a router in
/// memory (`InMemoryClient` of ConveneTesting). Typed calls and the generated stubs
/// (`client.consultation.conveneMeeting(...)`) are built on these two raw calls.
public protocol CallChannel: Sendable {
    /// A unary call on raw bytes: the response with the server's headers and trailers.
    func rawUnary(path: String, request: ByteBuffer, options: CallOptions?) async throws -> RawUnaryResponse
    /// A call of any kind on raw bytes. `request`, when given, is the only request (and ends them).
    func rawCall(path: String, request: ByteBuffer?, options: CallOptions?) async throws -> any RawCall
}

public typealias RawUnaryResponse = (message: ByteBuffer, headers: Metadata, trailers: Metadata)

/// A call in progress, on raw bytes.
public protocol RawCall: Sendable {
    /// Sends one request message.
    func send(_ message: ByteBuffer, compress: Bool) async throws
    /// Ends the requests; a no-op once the call has ended.
    func finish() async throws
    /// The responses, ending with the call and throwing its error status if not OK. Iterate once.
    func makeResponseIterator() -> RawResponseIterator
    /// The server's initial metadata (empty if it sent none).
    var headers: Metadata { get async throws }
    /// How the call ended: status, message, trailers. Waits for it.
    var end: CallEnd { get async }
    /// Cancels the call; its responses end with CANCELLED.
    func cancel()
}

/// The response messages of a raw call, one at a time.
public struct RawResponseIterator: AsyncIteratorProtocol {
    public typealias Element = ByteBuffer
    private let nextMessage: () async throws -> ByteBuffer?

    public init(next: @escaping () async throws -> ByteBuffer?) { nextMessage = next }

    public init<Base: AsyncIteratorProtocol>(_ base: Base) where Base.Element == ByteBuffer {
        var base = base
        nextMessage = { try await base.next() }
    }

    public mutating func next() async throws -> ByteBuffer? { try await nextMessage() }
}

public struct RawResponses: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let call: any RawCall

    public func makeAsyncIterator() -> RawResponseIterator { call.makeResponseIterator() }
}

extension StreamingCall: RawCall {
    public func makeResponseIterator() -> RawResponseIterator { RawResponseIterator(responses.makeAsyncIterator()) }
}

extension CallOptions {
    /// These options on top of a client's defaults: the defaults' metadata, then these.
    public func over(_ defaults: CallOptions) -> CallOptions {
        var merged = self
        var metadata = defaults.metadata
        for entry in self.metadata { metadata.add(entry.key, value: entry.value) }
        merged.metadata = metadata
        return merged
    }
}

// MARK: - Typed calls

extension CallChannel {
    public func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor, _ request: Request, as: Response.Type = Response.self, options: CallOptions? = nil
    ) async throws -> Response {
        try await unaryWithMetadata(method, request, as: Response.self, options: options).message
    }

    /// A unary call that also returns the response's initial and trailing metadata.
    public func unaryWithMetadata<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor, _ request: Request, as: Response.Type = Response.self, options: CallOptions? = nil
    ) async throws -> (message: Response, headers: Metadata, trailers: Metadata) {
        let response = try await rawUnary(path: method.path, request: request.serializedBuffer(), options: options)
        return (try Response.decodeResponse(response.message), response.headers, response.trailers)
    }

    /// A server-streaming call: one request, a stream of responses.
    public func serverStreaming<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor, _ request: Request, as: Response.Type = Response.self, options: CallOptions? = nil
    ) async throws -> TypedCall<Request, Response> {
        TypedCall(raw: try await rawCall(path: method.path, request: request.serializedBuffer(), options: options))
    }

    /// A client-streaming or bidirectional call: send requests through the returned call.
    public func streaming<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor, requestType: Request.Type = Request.self, as: Response.Type = Response.self,
        options: CallOptions? = nil
    ) async throws -> TypedCall<Request, Response> {
        TypedCall(raw: try await rawCall(path: method.path, request: nil, options: options))
    }
}

/// A streaming call with typed messages.
public struct TypedCall<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>: Sendable {
    public let raw: any RawCall

    public init(raw: any RawCall) { self.raw = raw }

    public func send(_ request: Request, compress: Bool = true) async throws {
        try await raw.send(request.serializedBuffer(), compress: compress)
    }

    /// Ends the requests.
    public func finish() async throws { try await raw.finish() }

    /// The responses; throws the call's error status at the end if it is not OK.
    public var responses: AsyncThrowingMapSequence<RawResponses, Response> {
        RawResponses(call: raw).map { try Response.decodeResponse($0) }
    }

    /// The one response of a client-streaming call (after `finish`).
    public func response() async throws -> Response {
        var iterator = responses.makeAsyncIterator()
        guard let first = try await iterator.next() else {
            throw RPCError(.internal, "server ended the call with OK but sent no response message")
        }
        return first
    }

    public var headers: Metadata { get async throws { try await raw.headers } }
    public var end: CallEnd { get async { await raw.end } }
    public func cancel() { raw.cancel() }
}

extension SwiftProtobuf.Message {
    /// A response from the server; one that does not decode is INTERNAL naming the type.
    static func decodeResponse(_ buffer: ByteBuffer) throws -> Self {
        do {
            return try Self(serializedBytes: Array(buffer: buffer))
        } catch {
            throw RPCError(.internal, "response is not a valid \(protoMessageName): \(error)")
        }
    }
}
