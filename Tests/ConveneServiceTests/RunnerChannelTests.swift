@testable import ConvenePluginHost
import ConveneRPC
import Foundation
import XCTest

/// A runner connection's writes: messages a network event loop enqueues wait for its flush
/// (one system call for a read batch's calls), and nothing enqueued is lost or reordered by
/// a `send` from another thread meanwhile.
final class RunnerChannelTests: XCTestCase {
    private func pair() -> (RunnerChannel, RunnerChannel) {
        var descriptors: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &descriptors), 0)
        return (RunnerChannel(descriptor: descriptors[0]), RunnerChannel(descriptor: descriptors[1]))
    }

    private func ids(_ messages: [RunnerMessage?]) -> [UInt64] {
        messages.compactMap { message in
            switch message {
            case .abandon(let id)?: return id
            default: return nil
            }
        }
    }

    func testEnqueuedMessagesWaitForTheFlushAndOnlyTheFirstAsksForIt() throws {
        let (writer, reader) = pair()
        XCTAssertTrue(writer.enqueue(.abandon(id: 1)), "the first enqueued message asks for a flush")
        XCTAssertFalse(writer.enqueue(.abandon(id: 2)), "the flush already due takes the second")
        XCTAssertFalse(reader.hasBufferedFrame)
        var available: Int32 = 0
        XCTAssertEqual(ioctl(reader.descriptor, UInt(FIONREAD), &available), 0)
        XCTAssertEqual(available, 0, "nothing is written before the flush")
        writer.flush()
        XCTAssertEqual(ids([try reader.receive(), try reader.receive()]), [1, 2])
        XCTAssertTrue(writer.enqueue(.abandon(id: 3)), "after a flush, the next enqueued message asks for another")
        writer.flush()
        XCTAssertEqual(ids([try reader.receive()]), [3])
    }

    func testASendWritesWhatWasEnqueuedBeforeItInOrderAndTheLaterFlushHasNothingLeft() throws {
        let (writer, reader) = pair()
        XCTAssertTrue(writer.enqueue(.abandon(id: 1)))
        XCTAssertTrue(writer.send(.abandon(id: 2)))
        XCTAssertEqual(ids([try reader.receive(), try reader.receive()]), [1, 2])
        XCTAssertTrue(reader.hasBufferedFrame == false)
        writer.flush()
        writer.send(.abandon(id: 4))
        XCTAssertEqual(ids([try reader.receive()]), [4], "the flush wrote nothing twice")
    }

    /// A writer whose socket is non-blocking (as the server's is), with `stallLimit` and
    /// `maxUnread`, telling `stalls` why it gave up.
    private func nonBlockingPair(stallLimit: Duration = .seconds(5), maxUnread: Int = 64 << 20,
                                 stalls: Locked<[String]>) -> (RunnerChannel, RunnerChannel) {
        var descriptors: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &descriptors), 0)
        XCTAssertEqual(fcntl(descriptors[0], F_SETFL, fcntl(descriptors[0], F_GETFL) | O_NONBLOCK), 0)
        let writer = RunnerChannel(descriptor: descriptors[0], stallLimit: stallLimit, maxUnread: maxUnread)
        writer.onStall = { why in stalls.withLock { $0.append(why) } }
        return (writer, RunnerChannel(descriptor: descriptors[1]))
    }

    private static func call(_ id: UInt64, size: Int) -> RunnerMessage {
        .call(id: id, method: 0, caller: "party-1", roles: [], request: [UInt8](repeating: UInt8(id & 0xFF), count: size))
    }

    func testASendNeverWaitsForTheOtherEndAndWhatItTakesLaterArrivesWholeInOrder() throws {
        let stalls = Locked<[String]>([])
        let (writer, reader) = nonBlockingPair(stalls: stalls)
        // Far more than the socket holds, nothing read meanwhile (on a thread of its own: a
        // write that waited for the reader would fail the test, not hang it).
        let sent = DispatchSemaphore(value: 0)
        let accepted = Locked(0)
        let sender = Thread {
            for id in 1...64 where writer.send(Self.call(UInt64(id), size: 64 << 10)) { accepted.withLock { $0 += 1 } }
            _ = writer.enqueue(Self.call(65, size: 100))
            writer.flush()
            sent.signal()
        }
        sender.start()
        XCTAssertEqual(sent.wait(timeout: .now() + 5), .success, "no write waited for the reader")
        var received: [UInt64] = []
        for _ in 1...65 {
            guard case .call(let id, _, _, _, let request)? = try reader.receive(until: .now.advanced(by: .seconds(10))) else {
                return XCTFail("not a call")
            }
            XCTAssertEqual(request.count, id == 65 ? 100 : 64 << 10)
            XCTAssertTrue(request.allSatisfy { $0 == UInt8(id & 0xFF) })
            received.append(id)
        }
        XCTAssertEqual(received, Array(1...65))
        XCTAssertEqual(accepted.withLock { $0 }, 64)
        XCTAssertEqual(stalls.withLock { $0 }, [])
        XCTAssertTrue(writer.send(.abandon(id: 66)), "the channel serves on")
        XCTAssertEqual(ids([try reader.receive()]), [66])
    }

    func testAnOtherEndThatTakesNothingForTheStallLimitIsGivenUpOn() throws {
        let stalls = Locked<[String]>([])
        let (writer, reader) = nonBlockingPair(stallLimit: .milliseconds(300), stalls: stalls)
        for id in 1...16 { XCTAssertTrue(writer.send(Self.call(UInt64(id), size: 64 << 10))) }
        XCTAssertTrue(eventuallySync { stalls.withLock { $0.count } == 1 }, "given up on")
        XCTAssertTrue(stalls.withLock { $0[0] }.contains("took none of the server's messages for 0.3 seconds"), "\(stalls.withLock { $0 })")
        XCTAssertFalse(writer.send(.abandon(id: 17)), "closed")
        _ = reader
    }

    func testMoreUnreadThanTheLimitIsGivenUpOn() throws {
        let stalls = Locked<[String]>([])
        let (writer, reader) = nonBlockingPair(maxUnread: 1 << 20, stalls: stalls)
        var accepted = 0
        for id in 1...64 where writer.send(Self.call(UInt64(id), size: 64 << 10)) { accepted += 1 }
        XCTAssertLessThan(accepted, 64)
        XCTAssertTrue(eventuallySync { stalls.withLock { $0.count } == 1 })
        XCTAssertTrue(stalls.withLock { $0[0] }.contains("let more than 1048576 bytes of the server's messages pile up unread"),
                      "\(stalls.withLock { $0 })")
        _ = reader
    }

    func testAReceiveGivesUpAtItsDeadline() throws {
        let (writer, reader) = pair()
        let started = ContinuousClock.now
        try withExtendedLifetime(writer) {  // its end open, silent
            XCTAssertThrowsError(try reader.receive(until: .now.advanced(by: .milliseconds(200)))) { error in
                XCTAssertTrue("\(error)".contains("no message came in time"), "\(error)")
            }
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
    }

    /// Polls `condition` for up to 10 s.
    private func eventuallySync(_ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    func testNothingIsEnqueuedOnAClosedChannel() {
        let (writer, _) = pair()
        writer.close()
        XCTAssertFalse(writer.enqueue(.abandon(id: 1)))
        XCTAssertFalse(writer.send(.abandon(id: 2)))
    }
}
