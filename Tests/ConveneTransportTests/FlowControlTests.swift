@testable import ConveneTransport
import ConveneRPC
import ConveneWire
import NIOCore
import XCTest

/// PROTOCOL.md §5 and §2.9: windows both ways, credit, and a window pushed past 2^31-1.
final class FlowControlTests: XCTestCase {
    typealias H = MachineHarness

    func testDataPastTheWindowIsAFlowControlError() {
        var h = H()
        h.handshake()
        // Whole messages of 60,000 bytes that the handler does not take: no credit comes back.
        let chunk = H.message(Array(repeating: 0, count: 59_995))
        h.read([H.call(1, H.stream)] + Array(repeating: Frame.data(streamID: 1, chunk, endStream: false), count: 18), at: 1)
        let goAway = H.goAway(h.written())
        XCTAssertEqual(goAway?.code, .flowControlError)
        XCTAssertEqual(goAway?.message, "stream 1 sent past its flow-control window")
    }

    func testAWindowUpdatePastTheMaximumIsAFlowControlErrorNotATrap() {
        var h = H()
        h.handshake()
        h.read([H.call(1, H.stream), .windowUpdate(streamID: 1, increment: Settings.maxWindowSize)], at: 1)
        let goAway = H.goAway(h.written())
        XCTAssertEqual(goAway?.code, .flowControlError)
        XCTAssertEqual(goAway?.message, "WINDOW_UPDATE overflows the window of stream 1 past 2147483647")
    }

    func testAWindowUpToTheMaximumIsFine() {
        var h = H()
        var settings = Settings()
        settings.initialWindowSize = 0
        h.handshake(settings: settings)
        h.read([H.call(1, H.stream), .windowUpdate(streamID: 1, increment: Settings.maxWindowSize)], at: 1)
        XCTAssertEqual(h.written(), [])
        XCTAssertFalse(h.closed)
    }

    func testResponsesWaitForCreditThenEndAfterTheLastMessage() {
        var h = H.waitingResponse(window: 10)
        h.machine.handlerFinished(streamID: 1, .success(()), now: h.at(2))
        h.actions = []
        h.collect()
        // The first 10 bytes: the prefix (identity, length 20) and 5 bytes of the message.
        XCTAssertEqual(h.written(), [.data(streamID: 1, ByteBuffer(bytes: [0, 0, 0, 0, 20, 7, 7, 7, 7, 7]), endStream: false)])
        XCTAssertTrue(h.actions.allSatisfy { if case .completeSend = $0 { false } else { true } }, "not out yet")
        XCTAssertEqual(h.machine.streamState(1), .open, "the END waits behind the message")
        h.read([.windowUpdate(streamID: 1, increment: 100)], at: 3)
        let frames = h.written()
        XCTAssertEqual(frames.count, 2)
        XCTAssertEqual(H.ends(frames)[1], CallEnd(code: .ok))
        XCTAssertTrue(h.actions.contains { if case .completeSend(100) = $0 { true } else { false } })
    }

    func testWritersOfACallThatEndsAreFailed() {
        var h = H.waitingResponse(window: 0)
        h.read([.cancel(streamID: 1, .cancelled)], at: 3)
        h.machine.enqueue(streamID: 1, ByteBuffer(), encoding: .identity, uncompressedSize: 0, completion: 101, now: h.at(4))
        h.collect()
        let failed = h.actions.compactMap { if case .failSend(let token, let error) = $0 { (token, error.code) } else { nil } }
        XCTAssertEqual(failed.map(\.0), [100, 101])
        XCTAssertEqual(failed.map(\.1), [.cancelled, .cancelled])
    }

    func testCreditComesBackForConsumedMessagesAndForPartialOnes() {
        var h = H()
        h.handshake()
        let half = 512 * 1024
        // One message of half the window, delivered: credit when the handler takes it.
        h.read([H.call(1, H.stream), .data(streamID: 1, H.message(Array(repeating: 1, count: half - 5)), endStream: false)], at: 1)
        XCTAssertEqual(h.written(), [])
        h.machine.requestConsumed(streamID: 1)
        XCTAssertEqual(h.written(), [.windowUpdate(streamID: 1, increment: UInt32(half))])
        // Bytes of a message still being reassembled are credited at once.
        var big = ByteBuffer()
        big.writeMultipleIntegers(UInt8(0), UInt32(2_000_000))
        big.writeRepeatingByte(0, count: half - 5)
        h.read([.data(streamID: 1, big, endStream: false)], at: 2)
        XCTAssertEqual(h.written(), [.windowUpdate(streamID: 1, increment: UInt32(half))])
    }

    func testSendFlowGrantChecksTheMaximum() {
        var flow = SendFlow<Int>(window: Settings.maxWindowSize - 10)
        XCTAssertTrue(flow.grant(10))
        XCTAssertEqual(flow.window, Int(Settings.maxWindowSize))
        XCTAssertFalse(flow.grant(1))
        XCTAssertFalse(flow.grant(.max))
        XCTAssertEqual(flow.window, Int(Settings.maxWindowSize), "a refused grant changes nothing")
    }
}
