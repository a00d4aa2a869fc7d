@testable import ConveneTransport
import ConveneRPC
import ConveneWire
import XCTest

/// PROTOCOL.md §2.8 and §7: GOAWAY's last stream id, calls after it, and closing.
final class DrainTests: XCTestCase {
    func testDrainSendsGoAwayWithTheLastProcessedCallAndClosesWhenCallsEnd() {
        var h = MachineHarness()
        h.handshake()
        h.read([MachineHarness.call(1, MachineHarness.stream), MachineHarness.call(3, MachineHarness.stream)], at: 1)
        h.machine.drain(now: h.at(2))
        h.collect()
        let goAway = MachineHarness.goAway(h.written())
        XCTAssertEqual(goAway, GoAway(lastStreamID: 3, code: .noError, message: "server is shutting down"))
        // A call after the GOAWAY is not processed: no answer, and it never opens.
        h.read([MachineHarness.call(5), MachineHarness.request(5)], at: 3)
        XCTAssertEqual(h.written(), [])
        XCTAssertEqual(h.machine.streamState(5), .closed)
        h.machine.handlerFinished(streamID: 1, .success(()), now: h.at(4))
        h.collect()
        XCTAssertFalse(h.closed, "call 3 is still open")
        h.machine.handlerFinished(streamID: 3, .success(()), now: h.at(5))
        h.collect()
        XCTAssertEqual(MachineHarness.ends(h.written()).keys.sorted(), [1, 3])
        XCTAssertTrue(h.closed)
    }

    func testDrainWithNoCallClosesAtOnce() {
        var h = MachineHarness()
        h.handshake()
        h.machine.drain(now: h.at(1))
        h.collect()
        XCTAssertEqual(MachineHarness.goAway(h.written())?.lastStreamID, 0)
        XCTAssertTrue(h.closed)
    }

    func testDrainBeforeThePrefaceSendsPrefaceAndGoAway() {
        var h = MachineHarness()
        h.machine.drain(now: h.t0)
        h.collect()
        XCTAssertEqual(MachineHarness.goAway(h.written())?.code, .noError)
        XCTAssertTrue(h.closed)
    }

    func testAClientGoAwayClosesOnceItsCallsEnd() {
        var h = MachineHarness()
        h.handshake()
        h.read([MachineHarness.call(1, MachineHarness.stream), .goAway(GoAway(lastStreamID: 0, code: .noError, message: "bye"))], at: 1)
        XCTAssertFalse(h.closed)
        h.read([MachineHarness.call(3), MachineHarness.request(3)], at: 2)
        XCTAssertEqual(h.written(), [], "no new call after the client's own GOAWAY")
        h.machine.handlerFinished(streamID: 1, .success(()), now: h.at(3))
        h.collect()
        XCTAssertTrue(h.closed)
    }

    func testAnErrorGoAwayNamesTheLastProcessedCallNotTheOffendingOne() {
        var h = MachineHarness()
        h.handshake()
        h.read([MachineHarness.call(1, MachineHarness.stream), MachineHarness.call(3, MachineHarness.stream)], at: 1)
        h.read([.windowUpdate(streamID: 9, increment: 1)], at: 2)
        let goAway = MachineHarness.goAway(h.written())
        XCTAssertEqual(goAway?.code, .protocolError)
        XCTAssertEqual(goAway?.lastStreamID, 3)
        XCTAssertEqual(goAway?.message, "WINDOW_UPDATE frame on stream 9, which no CALL opened")
        let cancelled = h.actions.compactMap { if case .cancelHandler(let id, let error) = $0 { (id, error.code) } else { nil } }
        XCTAssertEqual(cancelled.map(\.0), [1, 3])
        XCTAssertEqual(Set(cancelled.map(\.1)), [.unavailable])
    }

    func testAfterAnErrorNothingMoreIsRead() {
        var h = MachineHarness()
        h.handshake()
        h.read([.headers(streamID: 1, Metadata()), MachineHarness.call(1), MachineHarness.request(1)], at: 1)
        let frames = h.written()
        XCTAssertEqual(MachineHarness.goAway(frames)?.message, "only a server sends HEADERS")
        XCTAssertEqual(MachineHarness.ends(frames), [:])
        XCTAssertFalse(h.machine.isReading)
    }

    func testAnErrorAfterTheDrainStillNamesTheLastProcessedCall() {
        var h = MachineHarness()
        h.handshake()
        h.read([MachineHarness.call(1, MachineHarness.stream)], at: 1)
        h.machine.drain(now: h.at(2))
        h.read([MachineHarness.call(3), .end(streamID: 3, CallEnd(code: .ok))], at: 3)  // 3 is not processed
        let goAways = h.written().compactMap { if case .goAway(let goAway) = $0 { goAway } else { nil } }
        XCTAssertEqual(goAways.map(\.code), [.noError, .protocolError], "the error follows the drain's GOAWAY")
        XCTAssertEqual(goAways.map(\.lastStreamID), [1, 1])
    }
}
