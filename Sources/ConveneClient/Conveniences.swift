import ConveneProtos
import ConveneTransport
import Foundation

// Shorthands over the generated stubs for the calls the CLI and tests make most.

extension HealthClient {
    /// The serving status of `service` (empty: the server as a whole).
    public func check(service: String = "", options: CallOptions? = nil) async throws -> Convene_Health_V1_HealthCheckResponse {
        try await check(.with { $0.service = service }, options: options)
    }

    public func watch(service: String = "", options: CallOptions? = nil) async throws
        -> TypedCall<Convene_Health_V1_HealthCheckRequest, Convene_Health_V1_HealthCheckResponse> {
        try await watch(.with { $0.service = service }, options: options)
    }
}

extension ReflectionClient {
    public func listServices(options: CallOptions? = nil) async throws -> Convene_Reflection_V1_ListServicesResponse {
        try await listServices(Convene_Reflection_V1_ListServicesRequest(), options: options)
    }

    /// The file defining `symbol`, with the files it depends on.
    public func fileDescriptors(containing symbol: String, options: CallOptions? = nil) async throws
        -> Convene_Reflection_V1_GetFileDescriptorsResponse {
        try await getFileDescriptors(.with { $0.symbol = symbol }, options: options)
    }
}

extension BenchmarkClient {
    public func echo(_ payload: [UInt8], options: CallOptions? = nil) async throws -> Convene_Benchmark_V1_EchoResponse {
        try await unaryEcho(.with { $0.payload = Data(payload) }, options: options)
    }

    public func streamFromServer(count: UInt32, size: UInt32, options: CallOptions? = nil) async throws
        -> TypedCall<Convene_Benchmark_V1_StreamRequest, Convene_Benchmark_V1_StreamResponse> {
        try await streamFromServer(.with { $0.count = count; $0.size = size }, options: options)
    }
}
