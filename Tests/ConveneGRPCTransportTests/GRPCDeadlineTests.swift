import ConveneGRPCTransport
import ConveneRPC
import Foundation
import Logging
import NIOCore
import NIOHPACK
import Synchronization
import XCTest

/// Deadlines on the gRPC listener, through a real socket with frames written by hand.
final class GRPCDeadlineTests: XCTestCase {
    /// A call whose deadline passed while it waited for its turn in the read that brought it
    /// (behind a synchronous method that takes 20 ms): the method does not run, the call ends
    /// DEADLINE_EXCEEDED; one with time left is answered.
    func testASynchronousCallWhoseDeadlinePassedBeforeItsTurnDoesNotRun() async throws {
        let router = Router()
        let ran = Atomic<Int>(0)
        try router.register(MethodDescriptor(service: "t.S", method: "Slow", kind: .unary, inputType: "t.M", outputType: "t.M"),
                            .synchronousUnary { request, _ in
            usleep(20_000)
            return request
        })
        try router.register(MethodDescriptor(service: "t.S", method: "Count", kind: .unary, inputType: "t.M", outputType: "t.M"),
                            .synchronousUnary { request, _ in
            ran.add(1, ordering: .relaxed)
            return request
        })
        let transport = GRPCServerTransport(router: router, logger: Logger(label: "test"))
        let address = try await transport.bind(host: "127.0.0.1", port: 0)
        let client = try RawH2Client(port: address.port!)
        let message: [UInt8] = [0, 0, 0, 0, 0]
        // One write, so that the calls arrive in one read: the three opened, then their
        // requests; the slow call runs as its request ends, while the others wait their turn.
        var bytes = RawH2Client.frame(type: 4, flags: 0, stream: 0)
        bytes += try client.headers(stream: 1, path: "/t.S/Slow")
        bytes += try client.headers(stream: 3, path: "/t.S/Count", extra: [("grpc-timeout", "5m")])
        bytes += try client.headers(stream: 5, path: "/t.S/Count", extra: [("grpc-timeout", "10S")])
        for stream: UInt32 in [1, 3, 5] { bytes += RawH2Client.frame(type: 0, flags: 1, stream: stream, message) }
        try client.send(bytes)
        var ended = Set<UInt32>()
        while ended.count < 3 {
            ended.insert(try client.read(until: { $0.type == 1 && $0.flags & 1 != 0 && !ended.contains($0.stream) }).stream)
        }
        var decoder = HPACKDecoder(allocator: ByteBufferAllocator())
        var status: [UInt32: String] = [:]
        for frame in client.seen where frame.type == 1 {
            var block = ByteBuffer(bytes: frame.payload)
            let headers = try decoder.decodeHeaders(from: &block)
            if let code = headers.first(name: "grpc-status") { status[frame.stream] = code }
        }
        XCTAssertEqual(status, [1: "0", 3: "4", 5: "0"], "stream 3: DEADLINE_EXCEEDED")
        XCTAssertEqual(ran.load(ordering: .relaxed), 1, "only the call with time left ran")
        client.close()
        await transport.drain(grace: .milliseconds(100))
    }
}
