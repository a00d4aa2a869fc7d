@testable import ConveneTransport
import ConveneWire
import XCTest

/// PROTOCOL.md §4: a frame left incomplete, and a connection with no call, time out.
final class TimeoutTests: XCTestCase {
    func testAFrameLeftIncompleteTimesOutFromItsFirstByte() {
        var h = MachineHarness()
        h.handshake()
        h.read([], at: 5, incompleteBytes: 3)
        h.tick(at: 10)  // the wake-up asked for at the start comes; the next is the frame's
        XCTAssertEqual(h.wakeUps, [35])
        h.read([], at: 20, incompleteBytes: 7)  // more bytes of the same frame: the clock keeps running
        h.tick(at: 34.9)
        XCTAssertFalse(h.closed)
        h.tick(at: 35)
        let goAway = MachineHarness.goAway(h.written())
        XCTAssertEqual(goAway?.code, .timeout)
        XCTAssertEqual(goAway?.message, "a frame stayed incomplete for over 30.0 seconds")
    }

    func testFramesThatCompleteRestartTheFrameClock() {
        var h = MachineHarness()
        h.handshake()
        // A long upload: each read completes a frame and leaves the next one partial.
        h.read([], at: 1, incompleteBytes: 100)
        for second in stride(from: 10.0, through: 100, by: 10) {
            h.read([.ping(UInt64(second), ack: false)], at: second, incompleteBytes: 100)
        }
        h.tick(at: 125)
        XCTAssertFalse(h.closed, "no one frame stayed incomplete for 30 s")
        h.tick(at: 130)
        XCTAssertTrue(h.closed)
    }

    func testAConnectionWithNoCallIsClosedAfterTheIdleTimeout() {
        var h = MachineHarness(keepalive: nil, idle: .seconds(300))
        h.handshake()
        h.tick(at: 299)
        XCTAssertFalse(h.closed)
        XCTAssertEqual(h.wakeUps, [300])
        h.tick(at: 300)
        let goAway = MachineHarness.goAway(h.written())
        XCTAssertEqual(goAway?.code, .timeout)
        XCTAssertEqual(goAway?.message, "no call for 300.0 seconds; closing the idle connection")
    }

    func testAnOpenCallKeepsTheConnectionAndTheIdleClockRestartsWhenItEnds() {
        var h = MachineHarness(keepalive: nil, idle: .seconds(300))
        h.handshake()
        h.read([MachineHarness.call(1, MachineHarness.stream)], at: 100)
        h.tick(at: 500)
        XCTAssertFalse(h.closed, "a call is open")
        h.machine.handlerFinished(streamID: 1, .success(()), now: h.at(600))
        h.collect()
        XCTAssertEqual(h.wakeUps.last, 900)
        h.tick(at: 899)
        XCTAssertFalse(h.closed)
        h.tick(at: 900)
        XCTAssertTrue(h.closed)
    }

    func testNoIdleTimeoutWhenItIsOff() {
        var h = MachineHarness(keepalive: nil, idle: nil)
        h.handshake()
        h.tick(at: 100_000)
        XCTAssertFalse(h.closed)
        XCTAssertEqual(h.wakeUps, [], "nothing is due: no wake-up")
    }
}
