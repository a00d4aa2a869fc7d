@testable import ConveneTransport
import ConveneRPC
import ConveneWire
import NIOCore
import XCTest

/// PROTOCOL.md §6: the states of a stream, what moves it between them, and the faults of
/// frames that do not fit its state.
final class StreamStateTests: XCTestCase {
    typealias H = MachineHarness

    func testAStreamGoesIdleOpenHalfClosedClosed() {
        var h = H()
        h.handshake()
        XCTAssertEqual(h.machine.streamState(1), .idle)
        h.read([H.call(1, H.stream)], at: 1)
        XCTAssertEqual(h.machine.streamState(1), .open)
        h.read([H.request(1, end: true)], at: 2)
        XCTAssertEqual(h.machine.streamState(1), .halfClosed)
        h.machine.handlerFinished(streamID: 1, .success(()), now: h.at(3))
        h.collect()
        XCTAssertEqual(h.machine.streamState(1), .closed)
        XCTAssertEqual(H.ends(h.written())[1], CallEnd(code: .ok))
    }

    func testASynchronousUnaryCallIsAnsweredInline() {
        var h = H()
        h.handshake()
        h.read([H.call(1), H.request(1, [7, 8, 9])], at: 1)
        let frames = h.written()
        XCTAssertEqual(frames.first, .data(streamID: 1, H.message([7, 8, 9]), endStream: false))
        XCTAssertEqual(H.ends(frames)[1]?.trailers["x-echoed"], "3")
        XCTAssertEqual(h.machine.streamState(1), .closed)
    }

    func testCancelClosesWithoutAnEndAndCancelsTheHandler() {
        var h = H()
        h.handshake()
        h.read([H.call(1, H.stream), .cancel(streamID: 1, .cancelled)], at: 1)
        XCTAssertEqual(h.written(), [])
        XCTAssertEqual(h.machine.streamState(1), .closed)
        XCTAssertTrue(h.actions.contains { if case .cancelHandler(1, let e) = $0 { e.code == .cancelled } else { false } })
    }

    func testFramesForAClosedStreamAreDropped() {
        var h = H()
        h.handshake()
        h.read([H.call(1), H.request(1)], at: 1)
        _ = h.written()
        h.read([H.request(1), .windowUpdate(streamID: 1, increment: 10), .cancel(streamID: 1, .cancelled)], at: 2)
        XCTAssertEqual(h.written(), [])
        XCTAssertFalse(h.closed)
    }

    func testFramesForAnIdleStreamAreAProtocolError() {
        for frame in [H.request(7), Frame.windowUpdate(streamID: 7, increment: 1), .cancel(streamID: 7, .cancelled)] {
            var h = H()
            h.handshake()
            h.read([H.call(5, H.stream), frame], at: 1)
            let goAway = H.goAway(h.written())
            XCTAssertEqual(goAway?.code, .protocolError, "\(frame)")
            XCTAssertEqual(goAway?.message, "\(frame.type) frame on stream 7, which no CALL opened")
        }
    }

    func testDataAfterHalfCloseEndsTheCall() {
        var h = H()
        h.handshake()
        h.read([H.call(1, H.stream), H.request(1, end: true), H.request(1, end: false)], at: 1)
        XCTAssertEqual(H.ends(h.written())[1], CallEnd(code: .internal, message: "DATA after the client ended the stream"))
        XCTAssertTrue(h.actions.contains { if case .cancelHandler(1, _) = $0 { true } else { false } })
    }

    func testStreamIDsMustIncrease() {
        var h = H()
        h.handshake()
        h.read([H.call(5, H.stream), H.call(3)], at: 1)
        let goAway = H.goAway(h.written())
        XCTAssertEqual(goAway, GoAway(lastStreamID: 5, code: .protocolError,
                                      message: "malformed CALL frame: stream id 3 is not above the last one (5)"))
    }

    func testUnknownMethodsAndTooManyCallsEndOnlyThatCall() {
        var h = H()
        h.handshake()
        h.read([H.call(1, H.stream), H.call(3, H.stream), H.call(5, H.stream), H.call(7, H.stream),
                H.call(9, H.stream),
                .call(streamID: 11, CallStart(path: "/t.Echo/Nope"))], at: 1)
        let ends = H.ends(h.written())
        XCTAssertEqual(ends[9], CallEnd(code: .resourceExhausted, message: "too many concurrent calls: MAX_CONCURRENT_STREAMS is 4"))
        XCTAssertEqual(ends[11]?.code, .resourceExhausted, "still four open")
        h.read([.cancel(streamID: 1, .cancelled), .call(streamID: 13, CallStart(path: "/t.Echo/Nope"))], at: 2)
        XCTAssertEqual(H.ends(h.written())[13], CallEnd(code: .unimplemented, message: "unknown method Nope of service t.Echo"))
        XCTAssertEqual(h.machine.streamState(9), .closed)
        XCTAssertFalse(h.closed)
    }

    func testRequestCountsOfUnaryRequestMethods() {
        var h = H()
        h.handshake()
        var two = H.message([1])
        two.writeImmutableBuffer(H.message([2]))
        h.read([H.call(1), .data(streamID: 1, two, endStream: true),
                H.call(3), .data(streamID: 3, ByteBuffer(), endStream: true),
                H.call(5, H.serverStream), .data(streamID: 5, ByteBuffer(), endStream: true),
                H.call(7), .data(streamID: 7, H.message([1, 2, 3]).getSlice(at: 0, length: 6)!, endStream: true)], at: 1)
        let ends = H.ends(h.written())
        XCTAssertEqual(ends[1], CallEnd(code: .internal, message: "unary method /t.Echo/Say received more than one request message"))
        XCTAssertEqual(ends[3], CallEnd(code: .internal, message: "unary call ended without a request message"))
        XCTAssertEqual(ends[5], CallEnd(code: .internal, message: "serverStreaming call ended without a request message"))
        XCTAssertEqual(ends[7], CallEnd(code: .internal, message: "stream ended inside a message (6 bytes of it)"))
    }

    func testHandlerErrorsBecomeTheirStatus() {
        var h = H()
        h.handshake()
        h.read([H.call(1, H.fail), H.request(1), H.call(3, H.stream)], at: 1)
        h.machine.handlerFinished(streamID: 3, .failure(CancellationError()), now: h.at(2))
        h.collect()
        let ends = H.ends(h.written())
        XCTAssertEqual(ends[1], CallEnd(code: .invalidArgument, message: "no"))
        XCTAssertEqual(ends[3], CallEnd(code: .cancelled, message: "call was cancelled"))
    }

    func testMessagesBreakingLimitsEndTheCallWithTheirStatus() {
        var h = H()
        var settings = MachineHarness.configuration
        settings.settings.acceptEncodings = [.identity]
        h = H(configuration: settings)
        h.handshake()
        var declared = ByteBuffer()
        declared.writeMultipleIntegers(UInt8(0), UInt32(5 * 1024 * 1024))
        let compressed = MessageCompression.deflate(ByteBuffer(bytes: [1, 2]))
        h.read([H.call(1), .data(streamID: 1, declared, endStream: false),
                H.call(3), .data(streamID: 3, H.message(Array(buffer: compressed), encoding: .deflate), endStream: true)], at: 1)
        let ends = H.ends(h.written())
        XCTAssertEqual(ends[1], CallEnd(code: .resourceExhausted, message: "message declares 5242880 bytes, over the limit of 4194304"))
        XCTAssertEqual(ends[3], CallEnd(code: .internal, message: "message is compressed with deflate, which was not negotiated"))
    }

    func testAResponseOverTheClientsMaxMessageSizeIsRefused() {
        var h = H()
        var settings = Settings()
        settings.maxMessageSize = 65_536
        h.handshake(settings: settings)
        h.read([H.call(1, H.big), H.request(1)], at: 1)
        XCTAssertEqual(H.ends(h.written())[1],
                       CallEnd(code: .resourceExhausted, message: "response of 70000 bytes is over the client's max message size 65536"))
    }
}
