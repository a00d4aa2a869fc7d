@testable import ConveneTransport
import ConveneWire
import XCTest

/// PROTOCOL.md §2.7: a PING less than 1 s after the previous one is a strike; the PING that
/// makes more than 5 strikes in a row (the 7th of a rapid run) gets ENHANCE_YOUR_CALM.
final class PingPolicingTests: XCTestCase {
    func acks(_ frames: [Frame]) -> [UInt64] {
        frames.compactMap { if case .ping(let opaque, ack: true) = $0 { opaque } else { nil } }
    }

    func testTheSeventhRapidPingIsRefused() {
        var h = MachineHarness()
        h.handshake()
        h.read((1...20).map { .ping($0, ack: false) }, at: 1)
        let frames = h.written()
        XCTAssertEqual(acks(frames), [1, 2, 3, 4, 5, 6], "the first PING and five strikes are answered")
        let goAway = MachineHarness.goAway(frames)
        XCTAssertEqual(goAway?.code, .enhanceYourCalm)
        XCTAssertEqual(goAway?.message, "too many pings: more than 5 in a row each less than 1.0 seconds after the previous one")
        XCTAssertTrue(h.closed)
    }

    func testPingsOneIntervalApartNeverStrike() {
        var h = MachineHarness()
        h.handshake()
        for second in 1...30 { h.read([.ping(UInt64(second), ack: false)], at: Double(second)) }
        XCTAssertEqual(acks(h.written()).count, 30)
        XCTAssertFalse(h.closed)
    }

    func testASlowPingSetsTheStrikesBackToZero() {
        var h = MachineHarness()
        h.handshake()
        h.read((1...6).map { .ping($0, ack: false) }, at: 1)       // the first and 5 strikes
        h.read([.ping(7, ack: false)], at: 2)                      // 1 s after the previous: no strike
        h.read((8...13).map { .ping($0, ack: false) }, at: 2.5)    // 6 strikes, the 6th refused
        let frames = h.written()
        XCTAssertEqual(acks(frames), Array(1...12))
        XCTAssertEqual(MachineHarness.goAway(frames)?.code, .enhanceYourCalm)
    }

    func testStrikesCountTheGapToThePreviousPingNotTheFirst() {
        var h = MachineHarness()
        h.handshake()
        // Seven PINGs 0.9 s apart: each less than 1 s after the one before.
        for i in 0..<7 { h.read([.ping(UInt64(i), ack: false)], at: 1 + 0.9 * Double(i)) }
        XCTAssertEqual(acks(h.written()).count, 6)
        XCTAssertTrue(h.closed)
    }

    /// PROTOCOL.md §2.1: SETTINGS are policed as PINGs are, the handshake's counting as the first.
    func testTheSixthRapidSettingsAfterTheHandshakeIsRefused() {
        var h = MachineHarness()
        h.handshake()  // at 0 s
        h.read((1...20).map { _ in .settings(Settings()) }, at: 0.5)
        let frames = h.written()
        XCTAssertEqual(frames.filter { $0 == .settingsAck }.count, 5, "five strikes are acknowledged")
        let goAway = MachineHarness.goAway(frames)
        XCTAssertEqual(goAway?.code, .enhanceYourCalm)
        XCTAssertEqual(goAway?.message, "too many SETTINGS: more than 5 in a row each less than 1.0 seconds after the previous one")
        XCTAssertTrue(h.closed)
    }

    func testSettingsOneIntervalApartNeverStrike() {
        var h = MachineHarness()
        h.handshake()
        for second in 1...20 { h.read([.settings(Settings())], at: Double(second)) }
        XCTAssertEqual(h.written().filter { $0 == .settingsAck }.count, 20)
        XCTAssertFalse(h.closed)
    }

    func testAcksOfTheServersPingsAreNotPoliced() {
        var h = MachineHarness()
        h.handshake()
        h.read((1...50).map { .ping($0, ack: true) }, at: 1)
        XCTAssertEqual(h.written(), [])
        XCTAssertFalse(h.closed)
    }

    func testPolicyAlone() {
        let t0 = MonotonicInstant.now
        var policy = PingPolicy(minInterval: .seconds(1), maxStrikes: 2)
        XCTAssertTrue(policy.received(at: t0))
        XCTAssertTrue(policy.received(at: t0 + .milliseconds(999)))
        XCTAssertEqual(policy.strikes, 1)
        XCTAssertTrue(policy.received(at: t0 + .milliseconds(1999)))  // exactly 1 s after the previous
        XCTAssertEqual(policy.strikes, 0)
        XCTAssertTrue(policy.received(at: t0 + .milliseconds(2000)))
        XCTAssertTrue(policy.received(at: t0 + .milliseconds(2001)))
        XCTAssertFalse(policy.received(at: t0 + .milliseconds(2002)))
    }
}
