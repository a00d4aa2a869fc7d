import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import ConveneWire
import Foundation
import NIOCore
import XCTest

/// Numbers off the wire at their extremes, over real sockets: never a crash, each call
/// answered (or ended by its deadline) while the server keeps serving.
final class WireNumberTests: XCTestCase {
    /// A CALL with a timeout whose nanoseconds overflow Int64 used to trap the server (one
    /// unauthenticated frame). Any timeout is accepted and clamped to the documented maximum.
    func testExtremeTimeoutsNeverCrashTheServer() async throws {
        let timeouts: [UInt64] = [UInt64.max, UInt64(Int64.max), 1 << 63, 9_300_000_000_000_000,
                                  CallStart.maxTimeoutMicros + 1, CallStart.maxTimeoutMicros, 1]
        try await withServer { server, client in
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            // First the frames that crashed: CALL only, no DATA.
            try await raw.write { buffer in
                for (i, timeout) in timeouts.enumerated() {
                    buffer.writeFrame(.call(streamID: UInt32(2 * i + 1),
                                            CallStart(path: HealthMethods.check.path, timeoutMicros: timeout)))
                }
            }
            let status = try await client.health.check().status
            XCTAssertEqual(status, .serving, "the server survived the CALL frames alone")
            // Then complete each call: every one is answered.
            try await raw.write { buffer in
                for i in timeouts.indices {
                    buffer.writeFrame(.data(streamID: UInt32(2 * i + 1), .message([]), endStream: true))
                }
            }
            var ended: [UInt32: StatusCode] = [:]
            while ended.count < timeouts.count, let frame = try await raw.nextInteresting() {
                if case .end(let id, let end) = frame { ended[id] = end.code }
            }
            for (i, timeout) in timeouts.enumerated() where timeout > 1 {
                XCTAssertEqual(ended[UInt32(2 * i + 1)], .ok, "timeout \(timeout) µs")
            }
            // The 1 µs call may have expired first: either outcome is a clean END.
            XCTAssertNotNil(ended[UInt32(2 * timeouts.count - 1)])
            await raw.close()
        }
    }

    func testSaturatingNanoseconds() {
        XCTAssertEqual(Duration.seconds(Int64.max).saturatingNanoseconds, .max)
        XCTAssertEqual(Duration.seconds(Int64.min).saturatingNanoseconds, .min)
        XCTAssertEqual(Duration.microseconds(Int64.max).saturatingNanoseconds, .max)
        XCTAssertEqual(Duration.milliseconds(1500).saturatingNanoseconds, 1_500_000_000)
        XCTAssertEqual(Duration.nanoseconds(-7).saturatingNanoseconds, -7)
        XCTAssertEqual(CallStart(path: "/a/b", timeoutMicros: .max).enforcedTimeoutMicros, CallStart.maxTimeoutMicros)
        XCTAssertEqual(CallStart(path: "/a/b", timeoutMicros: 5).enforcedTimeoutMicros, 5)
    }
}
