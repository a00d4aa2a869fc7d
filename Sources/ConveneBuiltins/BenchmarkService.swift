import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import NIOCore
import SwiftProtobuf

/// The benchmark service used by load tests: echo, and streams of N messages of S bytes.
public struct BenchmarkService: BenchmarkServiceProtocol {
    public static let maxCount: UInt32 = 1_000_000
    public static let maxSize: UInt32 = 4_000_000
    /// The scope a caller's credential must grant (the server decides who has it).
    public static let requiredScope = "benchmark"

    public init() {}

    /// EchoResponse has EchoRequest's layout (field 1, bytes), so the echo returns the request's
    /// bytes as they came: no decode, no copy. It runs on the event loop (a Raw method of make protos).
    public func unaryEcho(_ request: ByteBuffer, context: inout UnaryContext) throws -> ByteBuffer {
        request
    }

    public func streamFromServer(_ request: Convene_Benchmark_V1_StreamRequest,
                                 responses: ResponseStreamWriter<Convene_Benchmark_V1_StreamResponse>,
                                 context: ServerCallContext) async throws {
        try Self.validate(request)
        // A call cancelled before it started builds nothing (the payload may be megabytes).
        try Task.checkCancellation()
        let message = Self.acquireResponse(size: request.size)
        defer { Self.releaseResponse(size: request.size) }
        for _ in 0..<request.count {
            try Task.checkCancellation()
            try await responses.raw.send(message, compress: true)
        }
    }

    public func streamFromClient(_ requests: RequestMessages<Convene_Benchmark_V1_StreamRequest>,
                                 context: ServerCallContext) async throws -> Convene_Benchmark_V1_StreamSummary {
        var summary = Convene_Benchmark_V1_StreamSummary()
        for try await request in requests {
            summary.messages += 1
            summary.bytes += UInt64(request.payload.count)
        }
        return summary
    }

    public func streamBoth(_ requests: RequestMessages<Convene_Benchmark_V1_StreamRequest>,
                           responses: ResponseStreamWriter<Convene_Benchmark_V1_StreamResponse>,
                           context: ServerCallContext) async throws {
        for try await request in requests {
            try await responses.send(.with { $0.payload = request.payload })
        }
    }

    /// A StreamResponse of `size` bytes is the same every time: built once and shared by every
    /// stream that sends that size at the same time (800 streams of 4 MB hold 4 MB between
    /// them, not 3.2 GB), and let go when the last of them ends.
    static func acquireResponse(size: UInt32) -> ByteBuffer {
        if let shared = sharedResponses.withLock({ shared -> ByteBuffer? in
            shared[size]?.users += 1
            return shared[size]?.bytes
        }) {
            return shared
        }
        let built = Convene_Benchmark_V1_StreamResponse.with {
            $0.payload = .init(repeating: 0x43, count: Int(size))
        }.serializedBuffer()
        return sharedResponses.withLock { shared in
            shared[size, default: (built, 0)].users += 1
            return shared[size]?.bytes ?? built
        }
    }

    static func releaseResponse(size: UInt32) {
        sharedResponses.withLock { shared in
            shared[size]?.users -= 1
            if shared[size]?.users == 0 { shared[size] = nil }
        }
    }

    private static let sharedResponses = Locked<[UInt32: (bytes: ByteBuffer, users: Int)]>([:])

    static func validate(_ request: Convene_Benchmark_V1_StreamRequest) throws {
        guard request.count <= maxCount else {
            throw RPCError(.invalidArgument, "count \(request.count) is over \(maxCount)")
        }
        guard request.size <= maxSize else {
            throw RPCError(.invalidArgument, "size \(request.size) is over \(maxSize)")
        }
    }
}
