@testable import ConveneTransport
import ConveneWire
import NIOCore
import XCTest

/// PROTOCOL.md §1: preface and SETTINGS, versions, the first frame, the handshake timeout.
final class HandshakeTests: XCTestCase {
    func testPrefaceAndSettingsAreAnsweredWithOursAndAnAck() {
        var h = MachineHarness()
        h.machine.receivePreface(.current, now: h.t0)
        h.read([.settings(Settings())], at: 0.1)
        XCTAssertEqual(h.written(), [.settings(MachineHarness.configuration.settings), .settingsAck])
        XCTAssertEqual(h.machine.phase, .active)
    }

    func testAnotherMajorVersionGetsUnsupportedVersion() {
        var h = MachineHarness()
        h.machine.receivePreface(Preface(major: 2, minor: 3), now: h.t0)
        h.collect()
        let goAway = MachineHarness.goAway(h.written())
        XCTAssertEqual(goAway?.code, .unsupportedVersion)
        XCTAssertEqual(goAway?.message, "this server speaks protocol 1.0; the client offered 2.3")
        XCTAssertTrue(h.closed)
    }

    func testBadPrefaceGetsOurPrefaceThenProtocolError() throws {
        var h = MachineHarness()
        h.machine.receiveError(.badPreface, now: h.t0)
        h.collect()
        var raw = ByteBuffer()
        for var buffer in h.machine.takeOutput() { raw.writeBuffer(&buffer) }
        XCTAssertEqual(try raw.readPreface(), .current, "the preface goes first, even before a refusal")
        var frames: [Frame] = []
        while let frame = try FrameParser().next(from: &raw) { frames.append(frame) }
        XCTAssertEqual(MachineHarness.goAway(frames)?.code, .protocolError)
        XCTAssertTrue(h.closed)
    }

    func testTheFirstFrameAfterThePrefaceMustBeSettings() {
        var h = MachineHarness()
        h.machine.receivePreface(.current, now: h.t0)
        h.read([MachineHarness.call(1)], at: 0)
        let goAway = MachineHarness.goAway(h.written())
        XCTAssertEqual(goAway?.code, .protocolError)
        XCTAssertEqual(goAway?.message, "the first frame after the preface must be SETTINGS, not CALL")
        XCTAssertEqual(goAway?.lastStreamID, 0, "the CALL was not processed")
    }

    func testHandshakeTimeoutCountsFromTheStartAndIsAskedForAsAWakeUp() {
        var h = MachineHarness()
        XCTAssertEqual(h.wakeUps, [10], "the first wake-up is the handshake deadline")
        h.machine.receivePreface(.current, now: h.at(9))
        h.tick(at: 9.999)
        XCTAssertFalse(h.closed, "a preface without SETTINGS is not a handshake, but the time is not up")
        h.tick(at: 10)
        XCTAssertEqual(MachineHarness.goAway(h.written())?.code, .timeout)
        XCTAssertTrue(h.closed)
    }

    func testACompletedHandshakeStopsTheHandshakeTimeout() {
        var h = MachineHarness()
        h.handshake()
        h.tick(at: 10)
        XCTAssertEqual(h.written(), [])
        XCTAssertFalse(h.closed)
        XCTAssertEqual(h.wakeUps, [60], "next: keepalive, 60 s after the last bytes heard")
    }

    func testOverloadedConnectionIsRefusedAtOnce() {
        var h = MachineHarness()
        var machine = MachineHarness.Machine(configuration: MachineHarness.configuration, router: MachineHarness.router,
                                             allocator: ByteBufferAllocator(), now: h.t0)
        machine.start(now: h.t0, refusal: "the server is at its limit of 3 connections; try again later")
        h.machine = machine
        h.collect()
        let goAway = MachineHarness.goAway(h.written())
        XCTAssertEqual(goAway?.code, .overloaded)
        XCTAssertEqual(goAway?.message, "the server is at its limit of 3 connections; try again later")
        XCTAssertTrue(h.closed)
    }

    func testALaterSettingsReplacesThePeersSettingsAndIsAcked() {
        var h = MachineHarness()
        h.handshake()
        var settings = Settings()
        settings.maxMessageSize = 10
        h.read([.settings(settings)], at: 1)
        XCTAssertEqual(h.written(), [.settingsAck])
        XCTAssertEqual(h.machine.peerSettings.maxMessageSize, 10)
    }
}
