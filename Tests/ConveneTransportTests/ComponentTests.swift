@testable import ConveneTransport
import ConveneWire
import NIOCore
import XCTest

/// The small parts both connection sides share: the deadline queue, keepalive, the frame
/// reader, the action queue.
final class ComponentTests: XCTestCase {
    let t0 = MonotonicInstant.now

    func testDeadlineQueueGivesTheEarliestFirst() {
        var queue = DeadlineQueue()
        for (seconds, id) in [(5, 1), (2, 3), (9, 5), (1, 7), (7, 9)] as [(Int64, UInt32)] {
            queue.insert(t0 + .seconds(seconds), streamID: id)
        }
        var order: [UInt32] = []
        while let (_, id) = queue.earliest {
            order.append(id)
            queue.removeEarliest()
        }
        XCTAssertEqual(order, [7, 3, 1, 9, 5])
    }

    func testDeadlineQueueSweepKeepsOnlyLiveEntriesInOrder() {
        var queue = DeadlineQueue()
        for id in UInt32(1)...40 { queue.insert(t0 + .seconds(Int64(100 - id)), streamID: id) }
        XCTAssertTrue(queue.needsSweep(liveCount: 2))
        queue.sweep { $0 == 10 || $0 == 20 }
        XCTAssertEqual(queue.count, 2)
        XCTAssertEqual(queue.earliest?.streamID, 20)
    }

    func testKeepaliveOpaqueBytesAreNeverReused() {
        var keepalive = Keepalive(interval: .seconds(1), timeout: .seconds(1), start: t0)
        guard case .ping(let first) = keepalive.check(now: t0 + .seconds(1)) else { return XCTFail("no ping") }
        keepalive.acknowledged(first)
        keepalive.heard(at: t0 + .seconds(1))
        guard case .ping(let second) = keepalive.check(now: t0 + .seconds(2)) else { return XCTFail("no second ping") }
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(keepalive.check(now: t0 + .milliseconds(2999)), .nothing)
        XCTAssertEqual(keepalive.check(now: t0 + .seconds(3)), .timedOut)
    }

    func testFrameReaderReportsWhatIsPendingAndWhetherAFrameCompleted() throws {
        var bytes = ByteBuffer()
        bytes.writePreface(.current)
        bytes.writeFrame(.ping(1, ack: false))
        bytes.writeFrame(.ping(2, ack: false))
        var reader = FrameReader(limits: Settings())
        var events: [String] = []
        func read(_ slice: ByteBuffer) throws -> FrameReader.Remainder {
            var slice = slice
            return try reader.read(&slice) { event in
                switch event {
                case .preface: events.append("preface")
                case .frame(let frame): events.append("\(frame)")
                }
                return true
            }
        }
        var remainder = try read(bytes.getSlice(at: 0, length: 5)!)
        XCTAssertEqual(remainder.pendingBytes, 5)
        XCTAssertFalse(remainder.madeProgress)
        remainder = try read(bytes.getSlice(at: 5, length: 23)!)  // the preface (8) and a PING (18), 2 bytes more
        XCTAssertEqual(events, ["preface", "\(Frame.ping(1, ack: false))"])
        XCTAssertEqual(remainder.pendingBytes, 2)
        XCTAssertTrue(remainder.madeProgress)
        remainder = try read(bytes.getSlice(at: 28, length: bytes.readableBytes - 28)!)
        XCTAssertEqual(remainder.pendingBytes, 0)
        XCTAssertEqual(events.count, 3)
    }

    /// A peer whose frames straddle every read (no read ends on a frame boundary) leaves the
    /// reader a part of a frame each time: what it keeps is that part, not every byte the
    /// connection received since it last ended on a boundary.
    func testFrameReaderKeepsOnlyTheUnparsedPartOfFramesThatStraddleReads() throws {
        var stream = ByteBuffer()
        stream.writePreface(.current)
        for _ in 0..<200 { stream.writeFrame(.data(streamID: 1, ByteBuffer(repeating: 7, count: 60_000), endStream: false)) }
        var reader = FrameReader(limits: Settings())
        var frames = 0
        var largest = 0
        while stream.readableBytes > 0 {
            // Reads of 50,001 bytes, in buffers of their own (as a socket's reads come).
            var read = ByteBufferAllocator().buffer(capacity: 65_536)
            var piece = stream.readSlice(length: min(50_001, stream.readableBytes))!
            read.writeBuffer(&piece)
            _ = try reader.read(&read) { event in
                if case .frame = event { frames += 1 }
                return true
            }
            largest = max(largest, reader.pendingStorage)
        }
        XCTAssertEqual(frames, 200)
        XCTAssertLessThanOrEqual(largest, 256 << 10, "12 MB received: the reader holds at most a frame and a read")
    }

    func testActionQueueAllowsAppendingWhileWorkingThrough() {
        var queue = ActionQueue<Int>()
        queue.append(1)
        queue.append(2)
        var seen: [Int] = []
        while let next = queue.pop() {
            seen.append(next)
            if next == 1 { queue.append(3) }
        }
        XCTAssertEqual(seen, [1, 2, 3])
        XCTAssertTrue(queue.isEmpty)
    }
}
