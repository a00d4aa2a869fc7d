import ConveneClient
import ConvenePluginHost
import ConveneRPC
import ConveneServer
import Foundation
import NIOCore
import XCTest

/// What one plugin's calls in flight may hold of requests is bounded (`--plugin-request-bytes`):
/// past it a call is refused at once rather than queued, so callers cannot make the server
/// hold requests without bound for a slow plugin (nor fill an isolated one's connection, which
/// ended its process).
class PluginRequestBoundTests: PluginTestCase {
    static let bound = 4 << 20
    override class func configure(_ configuration: inout ServerConfiguration) {
        configuration.pluginRequestBytes = bound
    }

    /// A Behaviour/Hang request: sleeps `milliseconds`, padded to `size` bytes.
    func hang(_ milliseconds: UInt32, size: Int) -> ByteBuffer {
        var request = ByteBuffer()
        request.writeInteger(milliseconds, endianness: .little)
        request.writeRepeatingByte(0x2A, count: size - 4)
        return request
    }

    func testCallsPastThePluginsRequestBoundAreRefusedAtOnceAndServedOnceItHasRoom() async throws {
        _ = try await f.loadPlugin(f.fixture("Behaviour"))
        var options = f.options("Troops")
        options.timeout = .seconds(30)
        let client: ConveneClient = f.client
        let slow = hang(3000, size: 3 << 19)  // 1.5 MiB each: two are 3 MiB, within the bound
        let deadline = ContinuousClock.now + .seconds(20)
        // Each is sent again while refused: a probe that reached the server first holds room
        // one of them needs, whatever order the calls arrive in.
        let calls = (0..<2).map { _ in
            Task { @Sendable [options] in
                while true {
                    do {
                        return try await client.unary(path: "/test.Behaviour/Hang", request: slow, options: options)
                    } catch let error as RPCError where error.code == .resourceExhausted && ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
            }
        }
        // Once both are in flight, a third of 3 MiB would take them past 4 MiB; before, it is
        // served (nothing held) or refused beside one of them.
        let expected = "plugin behaviour: its calls in flight hold \(3 << 20) bytes of requests, and this one's \(3 << 20) would take them past \(Self.bound) (--plugin-request-bytes); try again later"
        var refusal: RPCError?
        while refusal?.message != expected, ContinuousClock.now < deadline {
            do {
                _ = try await client.unary(path: "/test.Behaviour/Hang", request: hang(0, size: 3 << 20), options: options)
            } catch let error as RPCError {
                refusal = error
                XCTAssertEqual(error.code, .resourceExhausted, "in \(Self.isolation): \(error)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(refusal?.code, .resourceExhausted, "in \(Self.isolation)")
        XCTAssertEqual(refusal?.message, expected)
        for call in calls { _ = try await call.value }
        // Answered, they hold nothing: a large call is served again.
        let answered = try await client.unary(path: "/test.Behaviour/Hang", request: hang(0, size: 3 << 20), options: options)
        XCTAssertEqual(answered.message.readableBytes, 3 << 20)
    }
}

final class IsolatedPluginRequestBoundTests: PluginRequestBoundTests {
    override class var isolation: PluginIsolation { .process }
    override func testCallsPastThePluginsRequestBoundAreRefusedAtOnceAndServedOnceItHasRoom() async throws {
        try await super.testCallsPastThePluginsRequestBoundAreRefusedAtOnceAndServedOnceItHasRoom()
    }
}
