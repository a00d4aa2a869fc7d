import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import SwiftProtobuf
import NIOCore

/// The benchmark service used by load tests: echo, and streams of N messages of S bytes.
public struct BenchmarkService: Sendable {
    public static let maxCount: UInt32 = 1_000_000
    public static let maxSize: UInt32 = 4_000_000

    public init() {}

    public func register(with router: Router) throws {
        // EchoResponse has EchoRequest's layout (field 1, bytes), so the echo returns the
        // request's bytes as they came: no decode, no copy. It runs on the event loop.
        try router.register(BenchmarkMethods.unaryEcho, .synchronousUnary { request, _ in request })

        try router.registerServerStreaming(BenchmarkMethods.streamFromServer) {
            (request: Convene_Benchmark_V1_StreamRequest, writer: ResponseStreamWriter<Convene_Benchmark_V1_StreamResponse>, _) in
            try Self.validate(request)
            let message = Convene_Benchmark_V1_StreamResponse.with {
                $0.payload = .init(repeating: 0x43, count: Int(request.size))
            }.serializedBuffer()
            for _ in 0..<request.count {
                try Task.checkCancellation()
                try await writer.raw.send(message, compress: true)
            }
        }

        try router.registerClientStreaming(BenchmarkMethods.streamFromClient) {
            (requests: RequestMessages<Convene_Benchmark_V1_StreamRequest>, _, _) -> Convene_Benchmark_V1_StreamSummary in
            var summary = Convene_Benchmark_V1_StreamSummary()
            for try await request in requests {
                summary.messages += 1
                summary.bytes += UInt64(request.payload.count)
            }
            return summary
        }

        try router.registerBidirectional(BenchmarkMethods.streamBoth) {
            (requests: RequestMessages<Convene_Benchmark_V1_StreamRequest>, writer: ResponseStreamWriter<Convene_Benchmark_V1_StreamResponse>, _) in
            for try await request in requests {
                try await writer.send(.with { $0.payload = request.payload })
            }
        }
    }

    static func validate(_ request: Convene_Benchmark_V1_StreamRequest) throws {
        guard request.count <= maxCount else {
            throw RPCError(.invalidArgument, "count \(request.count) is over \(maxCount)")
        }
        guard request.size <= maxSize else {
            throw RPCError(.invalidArgument, "size \(request.size) is over \(maxSize)")
        }
    }
}
