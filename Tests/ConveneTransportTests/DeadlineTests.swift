@testable import ConveneTransport
import ConveneRPC
import ConveneWire
import XCTest

/// PROTOCOL.md §6: the server ends a call with DEADLINE_EXCEEDED when its timeout passes,
/// counted from the read that brought the CALL; deadlines are armed at the end of a read
/// batch, only for calls still open.
final class DeadlineTests: XCTestCase {
    func testACallAnsweredWithinItsReadNeedsNoWakeUp() {
        var h = MachineHarness()
        h.handshake()
        h.read([MachineHarness.call(1, timeoutMicros: 5_000_000), MachineHarness.request(1)], at: 1)
        XCTAssertEqual(MachineHarness.ends(h.written())[1]?.code, .ok)
        XCTAssertEqual(h.wakeUps, [], "no wake-up for a call that ended in its batch")
        XCTAssertTrue(h.machine.deadlines.isEmpty)
    }

    func testAnOpenCallEndsWithDeadlineExceededWhenItsTimeoutPasses() {
        var h = MachineHarness()
        h.handshake()
        h.read([MachineHarness.call(1, MachineHarness.stream, timeoutMicros: 2_500_000)], at: 1)
        XCTAssertEqual(h.wakeUps, [3.5])
        h.tick(at: 3.499)
        XCTAssertEqual(h.written(), [])
        h.actions = []
        h.tick(at: 3.5)
        XCTAssertEqual(MachineHarness.ends(h.written())[1], CallEnd(code: .deadlineExceeded, message: "deadline exceeded (timeout was 2500 ms)"))
        XCTAssertTrue(h.actions.contains {
            if case .cancelHandler(1, let error) = $0 { error.code == .deadlineExceeded } else { false }
        }, "the handler is cancelled: \(h.actions)")
        XCTAssertEqual(h.machine.streamState(1), .closed)
    }

    func testASynchronousCallWaitingForItsRequestTimesOutToo() {
        var h = MachineHarness()
        h.handshake()
        h.read([MachineHarness.call(1, timeoutMicros: 1_000)], at: 1)
        h.tick(at: 1.001)
        XCTAssertEqual(MachineHarness.ends(h.written())[1]?.code, .deadlineExceeded)
        h.read([MachineHarness.request(1)], at: 1.002)
        XCTAssertEqual(h.written(), [], "the late request is for a closed call: dropped")
    }

    func testTheEarliestDeadlineWakesFirstAndEndedCallsWakeNothing() {
        var h = MachineHarness()
        h.handshake()
        h.read([MachineHarness.call(1, MachineHarness.stream, timeoutMicros: 9_000_000),
                MachineHarness.call(3, MachineHarness.stream, timeoutMicros: 4_000_000),
                MachineHarness.call(5, MachineHarness.stream, timeoutMicros: 6_000_000)], at: 0)
        XCTAssertEqual(h.wakeUps, [4])
        h.read([.cancel(streamID: 3, .cancelled)], at: 1)
        h.tick(at: 4)
        XCTAssertEqual(h.written(), [], "call 3 was cancelled: nothing to end")
        XCTAssertEqual(h.wakeUps.last, 6)
        h.tick(at: 6)
        XCTAssertEqual(Set(MachineHarness.ends(h.written()).keys), [5])
        XCTAssertEqual(h.wakeUps.last, 9)
    }

    func testAHugeTimeoutIsClampedTo365DaysAndNeverOverflows() {
        var h = MachineHarness()
        h.handshake()
        h.read([MachineHarness.call(1, MachineHarness.stream, timeoutMicros: .max)], at: 0)
        let deadline = h.machine.deadlines.earliest?.deadline
        XCTAssertEqual(deadline, h.t0 + .microseconds(Int64(CallStart.maxTimeoutMicros)))
        h.tick(at: 86_400)
        XCTAssertEqual(MachineHarness.ends(h.written()), [:])
    }

    func testEndedCallsLeaveTheQueueWhenTheyOutnumberOpenOnes() {
        var h = MachineHarness()
        h.handshake()
        // Call 1 stays open with the earliest deadline, so ended calls pile up below it.
        h.read([MachineHarness.call(1, MachineHarness.stream, timeoutMicros: 1_000_000_000)], at: 0)
        var id: UInt32 = 3
        for i in 0..<200 {
            let now = Double(i) / 100
            h.read([MachineHarness.call(id, MachineHarness.stream, timeoutMicros: 2_000_000_000)], at: now)
            h.machine.handlerFinished(streamID: id, .success(()), now: h.at(now))
            h.collect()
            id += 2
        }
        XCTAssertLessThanOrEqual(h.machine.deadlines.count, 2 * 1 + 16 + 1, "bounded by the open calls, not by every call made")
        XCTAssertEqual(h.machine.deadlines.earliest?.streamID, 1)
    }
}
