import ConveneGRPCTransport
import ConveneRPC
import Foundation
import Logging
import NIOCore
import XCTest

/// Floods of frames that cost the server work and carry next to none, which swift-nio-http2
/// does not police, through a real gRPC listener with frames written by hand.
final class GRPCFloodTests: XCTestCase {
    private func echoServer() async throws -> (GRPCServerTransport, RawH2Client) {
        let router = Router()
        try router.register(MethodDescriptor(service: "t.S", method: "Echo", kind: .unary, inputType: "t.M", outputType: "t.M"),
                            .synchronousUnary { request, _ in request })
        let transport = GRPCServerTransport(router: router, logger: Logger(label: "test"))
        let address = try await transport.bind(host: "127.0.0.1", port: 0)
        let client = try RawH2Client(port: address.port!)
        try client.send(RawH2Client.frame(type: 4, flags: 0, stream: 0))
        return (transport, client)
    }

    private func goAway(_ client: RawH2Client) throws -> (code: UInt32, message: String) {
        let frame = try client.read(until: { $0.type == 7 })
        let code = frame.payload[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return (code, String(decoding: frame.payload[8...], as: UTF8.self))
    }

    private func pingAnswered(_ client: RawH2Client, _ byte: UInt8) throws {
        try client.send(RawH2Client.frame(type: 6, flags: 0, stream: 0, [byte, 0, 0, 0, 0, 0, 0, 0]))
        _ = try client.read(until: { $0.type == 6 && $0.flags & 1 != 0 && $0.payload.first == byte })
        XCTAssertFalse(client.seen.contains { $0.type == 7 }, "no GOAWAY yet: \(client.seen)")
    }

    /// 100 WINDOW_UPDATEs, and 10 per DATA frame written and per call opened, are taken;
    /// one more is a flood.
    func testWindowUpdatesBeyondWhatTheDataSentCallsForAreAFlood() async throws {
        let (transport, client) = try await echoServer()
        try client.send(client.headers(stream: 1, path: "/t.S/Echo") + RawH2Client.frame(type: 0, flags: 1, stream: 1, [0, 0, 0, 0, 0]))
        _ = try client.read(until: { $0.stream == 1 && $0.type == 1 && $0.flags & 1 != 0 })  // one DATA frame written
        // On stream 0 and on the call that ended (which swift-nio-http2 takes silently).
        try client.send((0..<120).flatMap { i in RawH2Client.frame(type: 8, flags: 0, stream: i % 2 == 0 ? 0 : 1, [0, 0, 0, 1]) })
        try pingAnswered(client, 1)
        try client.send(RawH2Client.frame(type: 8, flags: 0, stream: 0, [0, 0, 0, 1]))
        let (code, message) = try goAway(client)
        XCTAssertEqual(code, 11, "ENHANCE_YOUR_CALM")
        XCTAssertEqual(message, "too many WINDOW_UPDATEs: 121, where the 1 DATA frames the server has sent and the 1 calls opened call for 120 at most")
        client.close()
        await transport.drain(grace: .milliseconds(100))
    }

    /// Frames of types HTTP/2 does not define are legal, and ignored: 1,000 within 10 s
    /// are taken (PRIORITY frames count with them), the next is a flood.
    func testUnknownFramesPastTheLimitAreAFlood() async throws {
        let (transport, client) = try await echoServer()
        // (PRIORITY floods swift-nio-http2 refuses on its own.)
        try client.send((0..<1_000).flatMap { i in RawH2Client.frame(type: 0xFA, flags: 0, stream: UInt32(i % 3), [1, 2, 3]) })
        try pingAnswered(client, 3)
        try client.send(RawH2Client.frame(type: 0xFA, flags: 0, stream: 0))
        let (code, message) = try goAway(client)
        XCTAssertEqual(code, 11, "ENHANCE_YOUR_CALM")
        XCTAssertEqual(message, "too many frames that change nothing: more than 1000 PRIORITY frames or frames of unknown types within 10.0 seconds")
        client.close()
        await transport.drain(grace: .milliseconds(100))
    }

    /// A message dribbled a byte per DATA frame: 1,000 slivers within 10 s are taken, the next
    /// is a flood. A message's first and last frames are not slivers.
    func testAMessageDribbledAByteAFrameIsAFlood() async throws {
        let (transport, client) = try await echoServer()
        var bytes = try client.headers(stream: 1, path: "/t.S/Echo")
        bytes += RawH2Client.frame(type: 0, flags: 0, stream: 1, [0, 0, 0, 0x0F, 0xA0])  // 4,000 bytes to come
        for _ in 0..<1_000 { bytes += RawH2Client.frame(type: 0, flags: 0, stream: 1, [0]) }
        try client.send(bytes)
        try pingAnswered(client, 2)
        try client.send(RawH2Client.frame(type: 0, flags: 0, stream: 1, [0]))
        let (code, message) = try goAway(client)
        XCTAssertEqual(code, 11, "ENHANCE_YOUR_CALM")
        XCTAssertEqual(message, "too many DATA frames of under 1024 bytes inside a message: more than 1000 within 10.0 seconds")
        client.close()
        await transport.drain(grace: .milliseconds(100))
    }
}
