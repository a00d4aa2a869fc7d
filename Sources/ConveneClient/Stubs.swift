import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf

/// Typed stubs of the built-in services.
extension ConveneClient {
    public var health: HealthClient { HealthClient(client: self) }
    public var reflection: ReflectionClient { ReflectionClient(client: self) }
    public var benchmark: BenchmarkClient { BenchmarkClient(client: self) }
}

public struct HealthClient: Sendable {
    let client: ConveneClient

    public func check(service: String = "", options: CallOptions? = nil) async throws -> Convene_Health_V1_HealthCheckResponse {
        try await client.unary(HealthMethods.check, Convene_Health_V1_HealthCheckRequest.with { $0.service = service }, options: options)
    }

    public func watch(service: String = "", options: CallOptions? = nil) async throws
        -> TypedCall<Convene_Health_V1_HealthCheckRequest, Convene_Health_V1_HealthCheckResponse> {
        try await client.serverStreaming(HealthMethods.watch, .with { $0.service = service }, options: options)
    }
}

public struct ReflectionClient: Sendable {
    let client: ConveneClient

    public func listServices(options: CallOptions? = nil) async throws -> Convene_Reflection_V1_ListServicesResponse {
        try await client.unary(ReflectionMethods.listServices, Convene_Reflection_V1_ListServicesRequest(), options: options)
    }

    public func fileDescriptors(containing symbol: String, options: CallOptions? = nil) async throws
        -> Convene_Reflection_V1_GetFileDescriptorsResponse {
        try await client.unary(ReflectionMethods.getFileDescriptors, Convene_Reflection_V1_GetFileDescriptorsRequest.with { $0.symbol = symbol }, options: options)
    }
}

public struct BenchmarkClient: Sendable {
    let client: ConveneClient

    public func echo(_ payload: [UInt8], options: CallOptions? = nil) async throws -> Convene_Benchmark_V1_EchoResponse {
        try await client.unary(BenchmarkMethods.unaryEcho, Convene_Benchmark_V1_EchoRequest.with { $0.payload = Data(payload) }, options: options)
    }

    public func streamFromServer(count: UInt32, size: UInt32, options: CallOptions? = nil) async throws
        -> TypedCall<Convene_Benchmark_V1_StreamRequest, Convene_Benchmark_V1_StreamResponse> {
        try await client.serverStreaming(BenchmarkMethods.streamFromServer,
                                         .with { $0.count = count; $0.size = size }, options: options)
    }
}
