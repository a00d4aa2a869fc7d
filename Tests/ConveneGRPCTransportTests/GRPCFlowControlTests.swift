@testable import ConveneGRPCTransport
import ConveneRPC
import ConveneWire
import NIOCore
import NIOHPACK
import NIOHTTP2
import XCTest

/// Inbound flow control of a gRPC call as pure values: the room for messages larger than a
/// stream's window, and what a stream's window gets back when. The real server, fed by a
/// client that interleaves many large messages, is tested in Tests/GRPCPython/test_flow_control.py.
final class GRPCFlowControlTests: XCTestCase {
    let a = HTTP2StreamID(1), b = HTTP2StreamID(3), c = HTTP2StreamID(5)

    func testRoomIsGrantedFirstComeFirstServed() {
        var room = GRPCRequestReservations(limit: 100)
        XCTAssertTrue(room.reserve(60, for: a))
        XCTAssertFalse(room.reserve(50, for: b), "60 + 50 does not fit")
        XCTAssertFalse(room.reserve(10, for: c), "a small message does not pass one that waits before it")
        XCTAssertEqual(room.reserved, 60)
        let granted = room.release(60)
        XCTAssertEqual(granted.map(\.stream), [b, c])
        XCTAssertEqual(room.reserved, 60)
        XCTAssertEqual(room.waitingCount, 0)
    }

    func testAStreamThatStopsWaitingLetsTheNextOneIn() {
        var room = GRPCRequestReservations(limit: 100)
        XCTAssertTrue(room.reserve(70, for: a))
        XCTAssertFalse(room.reserve(80, for: b))
        XCTAssertFalse(room.reserve(20, for: c))
        XCTAssertEqual(room.cancel(b).map(\.stream), [c], "the call of b ended: c fits beside a")
        XCTAssertEqual(room.reserved, 90)
        XCTAssertEqual(room.cancel(b).count, 0, "cancelling twice changes nothing")
        XCTAssertEqual(room.release(0).count, 0)
    }

    func testAMessageWithinTheWindowIsCreditedWhenTaken() throws {
        let stream = try makeStream(window: 1000)
        receive(stream, message(300))
        XCTAssertEqual(stream.takeStreamCreditable(), 0, "held for the handler")
        XCTAssertEqual(stream.takeReleasable(), 0)
        XCTAssertEqual(stream.dequeueOne(), 0, "it had no reserved room")
        XCTAssertEqual(stream.takeStreamCreditable(), 305)
        XCTAssertEqual(stream.takeReleasable(), 305)
    }

    func testAnIncompleteMessageHoldsItsWindowUntilItHasRoom() throws {
        let stream = try makeStream(window: 1000)
        let whole = message(5000)
        receive(stream, whole.getSlice(at: 0, length: 800)!)
        XCTAssertEqual(stream.deframer.pendingMessageWireSize, 5005)
        XCTAssertEqual(stream.takeStreamCreditable(), 0, "without room, its bytes hold the stream's window")

        stream.grantReservation(5005)
        XCTAssertEqual(stream.takeStreamCreditable(), 5005,
                       "with room: the 800 bytes back, and the 4205 still to come in advance")
        receive(stream, whole.getSlice(at: 800, length: 5005 - 800)!)
        XCTAssertEqual(stream.takeStreamCreditable(), 0, "the rest was credited in advance")
        XCTAssertEqual(stream.reservedHeld, 5005)
        XCTAssertEqual(stream.dequeueOne(), 5005, "taken: the room comes back")
        XCTAssertEqual(stream.reservedHeld, 0)
        XCTAssertEqual(stream.takeStreamCreditable(), 0, "and no window twice")
        XCTAssertEqual(stream.takeReleasable(), 5005)
    }

    func testTheNextMessageAfterAReservedOneHasNoRoomOfItsOwn() throws {
        let stream = try makeStream(window: 1000)
        stream.grantReservation(2005)
        var bytes = message(2000)
        var next = message(3000)
        bytes.writeBuffer(&next)
        receive(stream, bytes.getSlice(at: 0, length: 2005 + 500)!)
        XCTAssertEqual(stream.currentReservation, 0, "the room went with the message it was for")
        XCTAssertEqual(stream.deframer.pendingMessageWireSize, 3005)
        XCTAssertEqual(stream.takeStreamCreditable(), 2005, "the reserved message, not the next one's 500 bytes")
    }

    func testThePendingSizeIsKnownOnlyOnceThePrefixIsWhole() {
        var deframer = MessageDeframer(maxMessageSize: 1 << 20)
        let whole = message(70_000)
        deframer.append(whole.getSlice(at: 0, length: 3)!)
        XCTAssertNoThrow(try deframer.next())
        XCTAssertNil(deframer.pendingMessageWireSize)
        deframer.append(whole.getSlice(at: 3, length: 10)!)
        XCTAssertNoThrow(try deframer.next())
        XCTAssertEqual(deframer.pendingMessageWireSize, 70_005)
    }

    // MARK: - Helpers

    private func message(_ size: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(size))
        buffer.writeRepeatingByte(7, count: size)
        return buffer
    }

    /// What the connection handler does with a DATA payload: counted, deframed, queued.
    private func receive(_ stream: GRPCServerStream, _ payload: ByteBuffer) {
        stream.addReceived(payload.readableBytes)
        stream.deframer.append(payload)
        while let framed = try? stream.deframer.next() {
            stream.queue(wireSize: MessagePrefix.size + framed.bytes.readableBytes)
        }
    }

    private func makeStream(window: Int) throws -> GRPCServerStream {
        let router = Router()
        try router.register(MethodDescriptor(service: "a.B", method: "C", kind: .unary),
                            .synchronousUnary { request, _ in request })
        let head = try GRPCRequestHead.parse(HPACKHeaders([
            (":method", "POST"), (":scheme", "http"), (":path", "/a.B/C"), (":authority", "x"),
            ("content-type", "application/grpc"), ("te", "trailers"),
        ])).get()
        guard case .run(let method) = router.admit(path: head.path, metadata: head.metadata) else {
            throw RPCError(.internal, "the router did not admit the test method")  // a failure, not a skip
        }
        return GRPCServerStream(id: a, method: method, head: head, maxMessageSize: 1 << 20, window: window, now: .now())
    }
}
