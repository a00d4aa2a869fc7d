@testable import ConveneTransport
import ConveneWire
import XCTest

/// PROTOCOL.md §2.7: the server pings a silent peer and closes when the answer is late.
final class KeepaliveTests: XCTestCase {
    func pings(_ frames: [Frame]) -> [UInt64] {
        frames.compactMap { if case .ping(let opaque, ack: false) = $0 { opaque } else { nil } }
    }

    func testASilentPeerIsPingedAfterTheIntervalAndClosedWhenTheAnswerIsLate() {
        var h = MachineHarness()
        h.handshake()
        h.tick(at: 59.9)
        XCTAssertEqual(pings(h.written()), [], "not before 60 s of silence")
        h.tick(at: 60)
        let sent = pings(h.written())
        XCTAssertEqual(sent.count, 1)
        XCTAssertEqual(h.wakeUps.last, 80, "the answer is due 20 s after the PING")
        h.read([], at: 70, incompleteBytes: 1)  // bytes that are not the answer do not count
        h.tick(at: 79.9)
        XCTAssertFalse(h.closed)
        h.tick(at: 80)
        let goAway = MachineHarness.goAway(h.written())
        XCTAssertEqual(goAway?.code, .timeout)
        XCTAssertEqual(goAway?.message, "keepalive ping not answered within 20.0 seconds")
    }

    func testTheAnswerEchoingThePingsBytesKeepsTheConnection() throws {
        var h = MachineHarness()
        h.handshake()
        h.tick(at: 60)
        let opaque = try XCTUnwrap(pings(h.written()).first)
        h.read([.ping(opaque &+ 1, ack: true)], at: 61)  // not the answer
        h.read([.ping(opaque, ack: true)], at: 62)
        h.tick(at: 80)
        XCTAssertFalse(h.closed)
        XCTAssertEqual(pings(h.written()), [], "the next PING waits for 60 s of silence again")
        h.tick(at: 122)
        XCTAssertEqual(pings(h.written()).count, 1)
    }

    func testBytesFromThePeerPostponeThePing() {
        var h = MachineHarness()
        h.handshake()
        h.read([.settings(Settings())], at: 50)
        _ = h.written()
        h.tick(at: 60)
        XCTAssertEqual(pings(h.written()), [])
        XCTAssertEqual(h.wakeUps.last, 110)
        h.tick(at: 110)
        XCTAssertEqual(pings(h.written()).count, 1)
    }

    func testNoPingWhenKeepaliveIsOff() {
        var h = MachineHarness(keepalive: nil, idle: nil)
        h.handshake()
        h.tick(at: 10_000)
        XCTAssertEqual(h.written(), [])
    }
}
