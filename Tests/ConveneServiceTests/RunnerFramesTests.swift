@testable import ConvenePluginHost
import NIOCore
import XCTest

/// A runner's connection as the server reads it (`RunnerFrames`): whole messages in order,
/// however the bytes are split, and no more memory held than the frame not yet whole.
final class RunnerFramesTests: XCTestCase {
    private static func log(_ index: Int, size: Int) -> RunnerMessage {
        .log(level: 2, message: String(repeating: Character(UnicodeScalar(UInt8(0x61 + index % 26))), count: size))
    }

    private static func bytes(_ messages: [RunnerMessage]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for message in messages { message.write(to: &buffer) }
        return buffer
    }

    /// A call and its answer are written in one pass (`RunnerFrameWriter`): the same bytes
    /// as field by field, and read back as they were.
    func testTheMessagesOfEveryCallAreTheSameBytesWrittenInOnePass() throws {
        let messages: [RunnerMessage] = [
            .call(id: 1, method: 0, caller: "", roles: [], request: []),
            .call(id: .max, method: 7, caller: "party-12", roles: [1, -3, .max], request: Array(0...255)),
            .call(id: 9, method: 2, caller: "Côte d’Ivoire 🇨🇮", roles: [2], request: [0]),
            .done(id: 1, status: 0, response: [], error: nil),
            .done(id: 2, status: 0, response: Array(repeating: 0xAB, count: 70_000), error: nil),
            .done(id: 3, status: 13, response: nil, error: "plugin Faults: no ‘answer’"),
            .done(id: .max, status: -1, response: [1, 2], error: ""),
        ]
        for message in messages {
            var fields = ByteBuffer(bytes: [0xEE])  // after bytes already pending
            message.writeFields(to: &fields)
            var onePass = ByteBuffer(bytes: [0xEE])
            message.write(to: &onePass)
            XCTAssertEqual(onePass, fields, "\(message)")
            onePass.moveReaderIndex(forwardBy: 1)
            XCTAssertEqual(try RunnerMessage.take(from: &onePass), message)
            XCTAssertEqual(onePass.readableBytes, 0)
        }
    }

    func testMessagesComeOutWholeAndInOrderHoweverTheBytesAreSplit() throws {
        let messages = (0..<50).map { Self.log($0, size: 1 + $0 * 37) }
        let all = Self.bytes(messages)
        for chunk in [1, 7, 100, 4096, all.readableBytes] {
            var frames = RunnerFrames()
            var read: [RunnerMessage] = []
            var rest = all
            while rest.readableBytes > 0 {
                var piece = rest.readSlice(length: min(chunk, rest.readableBytes))!
                frames.append(&piece)
                while let message = try frames.next() { read.append(message) }
            }
            XCTAssertEqual(read, messages, "in reads of \(chunk) bytes")
            XCTAssertTrue(frames.isEmpty)
        }
    }

    /// A runner that always has a frame half sent (it logs without a pause): each read ends
    /// within a frame. What is held stays about one read and one frame, not all it sent.
    func testARunnerThatAlwaysHasAFrameHalfSentMakesNoBufferGrow() throws {
        let frame = Self.bytes([Self.log(0, size: 60_000)])
        var stream = ByteBuffer()
        for _ in 0..<400 { stream.writeImmutableBuffer(frame) }  // 24 MB in all
        var frames = RunnerFrames()
        var read = 0
        var largest = 0
        // Reads of 64 KiB and a bit: never on a frame's boundary.
        while stream.readableBytes > 0 {
            var piece = stream.readSlice(length: min(65_537, stream.readableBytes))!
            frames.append(&piece)
            while try frames.next() != nil { read += 1 }
            largest = max(largest, frames.heldBytes)
        }
        XCTAssertEqual(read, 400)
        XCTAssertLessThan(largest, 1 << 20, "held \(largest) bytes at most for frames of \(frame.readableBytes)")
    }

    func testAFrameOverTheLimitBreaksTheProtocol() {
        var frames = RunnerFrames()
        var bytes = ByteBuffer()
        bytes.writeInteger(UInt32(RunnerMessage.maxFrame + 1))
        frames.append(&bytes)
        XCTAssertThrowsError(try frames.next())
    }
}
