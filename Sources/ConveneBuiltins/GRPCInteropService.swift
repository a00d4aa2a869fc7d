import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import Foundation
import SwiftProtobuf

/// gRPC's interop TestService (grpc.testing), so that gRPC's own interop clients, in any
/// language, run their cases against Convene, over either listener. Served with
/// `--enable-interop` only. Per-message compression of streamed requests is accepted but
/// `expect_compressed` is checked on unary calls only.
public struct GRPCInteropService: GRPCTestServiceProtocol {
    public static let echoInitialKey = "x-grpc-test-echo-initial"
    public static let echoTrailingKey = "x-grpc-test-echo-trailing-bin"
    /// gRPC's keys, and their other kind too (binary initial, ASCII trailing metadata).
    static let echo = MetadataEcho(prefix: "x-grpc-test-echo")
    public static let maxResponseSize: Int32 = 4_000_000
    /// Longest `interval_us` honoured before one response: 10 minutes.
    public static let maxIntervalMicros: Int32 = 600_000_000

    public typealias OutputRequest = Grpc_Testing_StreamingOutputCallRequest
    public typealias OutputResponse = Grpc_Testing_StreamingOutputCallResponse

    public init() {}

    public func emptyCall(_ request: Grpc_Testing_Empty, context: inout UnaryContext) throws -> Grpc_Testing_Empty {
        Grpc_Testing_Empty()
    }

    public func unaryCall(_ request: Grpc_Testing_SimpleRequest, context: inout UnaryContext) throws -> Grpc_Testing_SimpleResponse {
        try Self.unary(request, &context)
    }

    public func cacheableUnaryCall(_ request: Grpc_Testing_SimpleRequest,
                                   context: inout UnaryContext) throws -> Grpc_Testing_SimpleResponse {
        try Self.unary(request, &context)
    }

    public func streamingOutputCall(_ request: OutputRequest, responses: ResponseStreamWriter<OutputResponse>,
                                    context: ServerCallContext) async throws {
        try await Self.echoHeaders(context, responses)
        try await Self.respond(to: request, writer: responses)
    }

    public func streamingInputCall(_ requests: RequestMessages<Grpc_Testing_StreamingInputCallRequest>,
                                   context: ServerCallContext) async throws -> Grpc_Testing_StreamingInputCallResponse {
        var total = 0
        for try await request in requests { total += request.payload.body.count }
        return .with { $0.aggregatedPayloadSize = Int32(clamping: total) }
    }

    public func fullDuplexCall(_ requests: RequestMessages<OutputRequest>, responses: ResponseStreamWriter<OutputResponse>,
                               context: ServerCallContext) async throws {
        try await Self.echoHeaders(context, responses)
        for try await request in requests { try await Self.respond(to: request, writer: responses) }
    }

    public func halfDuplexCall(_ requests: RequestMessages<OutputRequest>, responses: ResponseStreamWriter<OutputResponse>,
                               context: ServerCallContext) async throws {
        try await Self.echoHeaders(context, responses)
        var buffered: [OutputRequest] = []
        for try await request in requests { buffered.append(request) }
        for request in buffered { try await Self.respond(to: request, writer: responses) }
    }

    /// Declared so that clients see how UNIMPLEMENTED is answered (the "unimplemented_method"
    /// case): as the router answers a method it does not know.
    public func unimplementedCall(_ request: Grpc_Testing_Empty, context: ServerCallContext) async throws -> Grpc_Testing_Empty {
        throw RPCError.unimplemented(method: context.method.method, service: context.method.service)
    }

    static func unary(_ request: Grpc_Testing_SimpleRequest, _ context: inout UnaryContext) throws -> Grpc_Testing_SimpleResponse {
        context.responseHeaders = echoedHeaders(context.requestMetadata)
        context.responseTrailers = echoedTrailers(context.requestMetadata)
        if request.expectCompressed.value, context.requestEncoding == .identity {
            throw RPCError(.invalidArgument, "expect_compressed: the request arrived uncompressed")
        }
        if request.hasResponseStatus, request.responseStatus.code != 0 {
            throw error(request.responseStatus, trailers: context.responseTrailers)
        }
        // The interop cases ask for a compressed (or an uncompressed) response outright.
        context.responseCompression = request.responseCompressed.value ? .always : .never
        return try .with { $0.payload = try payload(size: request.responseSize) }
    }

    static func echoHeaders(_ context: ServerCallContext, _ writer: ResponseStreamWriter<OutputResponse>) async throws {
        let headers = echoedHeaders(context.requestMetadata)
        if !headers.isEmpty { try await writer.sendHeaders(headers) }
        writer.setTrailers(echoedTrailers(context.requestMetadata))
    }

    static func respond(to request: OutputRequest, writer: ResponseStreamWriter<OutputResponse>) async throws {
        for parameters in request.responseParameters {
            guard parameters.intervalUs >= 0, parameters.intervalUs <= maxIntervalMicros else {
                throw RPCError(.invalidArgument, "interval_us must be 0...\(maxIntervalMicros), got \(parameters.intervalUs)")
            }
            if parameters.intervalUs > 0 { try await Task.sleep(for: .microseconds(Int(parameters.intervalUs))) }
            try Task.checkCancellation()  // before building a payload of up to 4 MB
            let response = try OutputResponse.with { $0.payload = try payload(size: parameters.size) }
            try await writer.send(response, compression: parameters.compressed.value ? .always : .never)
        }
        if request.hasResponseStatus, request.responseStatus.code != 0 {
            throw error(request.responseStatus, trailers: Metadata())
        }
    }

    static func payload(size: Int32) throws -> Grpc_Testing_Payload {
        guard size >= 0, size <= maxResponseSize else {
            throw RPCError(.invalidArgument, "response size must be 0...\(maxResponseSize), got \(size)")
        }
        return .with { $0.body = Data(count: Int(size)) }
    }

    static func error(_ status: Grpc_Testing_EchoStatus, trailers: Metadata) -> RPCError {
        guard status.code > 0, status.code <= 16 else {
            return RPCError(.invalidArgument, "response_status.code must be 1...16, got \(status.code)")
        }
        return RPCError(StatusCode(rawValue: UInt8(status.code)), status.message, metadata: trailers)
    }

    static func echoedHeaders(_ metadata: Metadata) -> Metadata { echo.headers(metadata) }
    static func echoedTrailers(_ metadata: Metadata) -> Metadata { echo.trailers(metadata) }
}
