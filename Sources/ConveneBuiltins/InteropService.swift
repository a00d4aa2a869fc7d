import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import SwiftProtobuf
import Foundation

/// The interoperability test service (modelled on grpc.testing.TestService): partners
/// run gRPC's interop cases against it, and so does our conformance suite.
public struct InteropService: TestServiceProtocol {
    /// Echoed back as initial metadata (ASCII; `echoInitialKey + "-bin"` for bytes).
    public static let echoInitialKey = "x-convene-test-echo-initial"
    /// Echoed back as trailing metadata (bytes; `echoTrailingASCIIKey` for ASCII).
    public static let echoTrailingKey = "x-convene-test-echo-trailing-bin"
    public static let echoTrailingASCIIKey = "x-convene-test-echo-trailing"
    static let echo = MetadataEcho(prefix: "x-convene-test-echo")
    public static let maxSleepMilliseconds: Int32 = 600_000
    public static let maxResponseSize: Int32 = 4_000_000

    public init() {}

    public func emptyCall(_ request: Convene_Testing_V1_Empty, context: inout UnaryContext) throws -> Convene_Testing_V1_Empty {
        Convene_Testing_V1_Empty()
    }

    public func unaryCall(_ request: Convene_Testing_V1_SimpleRequest,
                          context: inout UnaryContext) throws -> Convene_Testing_V1_SimpleResponse {
        context.responseHeaders = Self.echoedHeaders(context.requestMetadata)
        context.responseTrailers = Self.echoedTrailers(context.requestMetadata)
        if request.expectCompressed, context.requestEncoding == .identity {
            throw RPCError(.invalidArgument, "expect_compressed: the request arrived uncompressed")
        }
        if request.hasResponseStatus, request.responseStatus.code != 0 {
            throw Self.error(request.responseStatus, trailers: context.responseTrailers)
        }
        context.compressResponse = request.responseCompressed
        return try .with { $0.payload = try Self.payload(size: request.responseSize) }
    }

    public func streamingOutputCall(_ request: Convene_Testing_V1_StreamingOutputCallRequest,
                                    responses: ResponseStreamWriter<Convene_Testing_V1_StreamingOutputCallResponse>,
                                    context: ServerCallContext) async throws {
        try await Self.respond(to: request, writer: responses)
    }

    public func streamingInputCall(_ requests: RequestMessages<Convene_Testing_V1_StreamingInputCallRequest>,
                                   context: ServerCallContext) async throws -> Convene_Testing_V1_StreamingInputCallResponse {
        var total: Int32 = 0
        for try await request in requests { total += Int32(request.payload.body.count) }
        return .with { $0.aggregatedPayloadSize = total }
    }

    public func fullDuplexCall(_ requests: RequestMessages<Convene_Testing_V1_StreamingOutputCallRequest>,
                               responses: ResponseStreamWriter<Convene_Testing_V1_StreamingOutputCallResponse>,
                               context: ServerCallContext) async throws {
        let headers = Self.echoedHeaders(context.requestMetadata)
        if !headers.isEmpty { try await responses.sendHeaders(headers) }
        responses.setTrailers(Self.echoedTrailers(context.requestMetadata))
        for try await request in requests {
            try await Self.respond(to: request, writer: responses)
        }
    }

    public func sleep(_ request: Convene_Testing_V1_SleepRequest, context: ServerCallContext) async throws -> Convene_Testing_V1_Empty {
        guard request.milliseconds >= 0, request.milliseconds <= Self.maxSleepMilliseconds else {
            throw RPCError(.invalidArgument, "milliseconds must be 0...\(Self.maxSleepMilliseconds), got \(request.milliseconds)")
        }
        try await Task.sleep(for: .milliseconds(Int(request.milliseconds)))
        return Convene_Testing_V1_Empty()
    }

    /// Declared so that clients can test how they take UNIMPLEMENTED (gRPC's interop case
    /// "unimplemented_method"): answered as the router answers a method it does not know.
    public func unimplementedCall(_ request: Convene_Testing_V1_Empty, context: ServerCallContext) async throws -> Convene_Testing_V1_Empty {
        throw RPCError.unimplemented(method: context.method.method, service: context.method.service)
    }

    static func respond(to request: Convene_Testing_V1_StreamingOutputCallRequest,
                        writer: ResponseStreamWriter<Convene_Testing_V1_StreamingOutputCallResponse>) async throws {
        for parameters in request.responseParameters {
            if parameters.intervalUs > 0 { try await Task.sleep(for: .microseconds(Int(parameters.intervalUs))) }
            try Task.checkCancellation()  // before building a payload of up to 4 MB
            let response = try Convene_Testing_V1_StreamingOutputCallResponse.with {
                $0.payload = try payload(size: parameters.size)
            }
            try await writer.send(response, compress: parameters.compressed)
        }
        if request.hasResponseStatus, request.responseStatus.code != 0 {
            throw error(request.responseStatus, trailers: Metadata())
        }
    }

    static func payload(size: Int32) throws -> Convene_Testing_V1_Payload {
        guard size >= 0, size <= maxResponseSize else {
            throw RPCError(.invalidArgument, "response size must be 0...\(maxResponseSize), got \(size)")
        }
        return .with { $0.body = Data(count: Int(size)) }
    }

    static func error(_ status: Convene_Testing_V1_EchoStatus, trailers: Metadata) -> RPCError {
        guard status.code > 0, status.code <= 255 else {
            return RPCError(.invalidArgument, "response_status.code must be 1...255, got \(status.code)")
        }
        return RPCError(StatusCode(rawValue: UInt8(status.code)), status.message, metadata: trailers)
    }

    static func echoedHeaders(_ metadata: Metadata) -> Metadata { echo.headers(metadata) }
    static func echoedTrailers(_ metadata: Metadata) -> Metadata { echo.trailers(metadata) }
}
