@testable import ConvenePluginHost
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

    func testNothingIsEnqueuedOnAClosedChannel() {
        let (writer, _) = pair()
        writer.close()
        XCTAssertFalse(writer.enqueue(.abandon(id: 1)))
        XCTAssertFalse(writer.send(.abandon(id: 2)))
    }
}
