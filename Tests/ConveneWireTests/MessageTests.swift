import ConveneWire
import NIOCore
import XCTest

final class MessageTests: XCTestCase {
    func framed(_ bytes: [UInt8], encoding: UInt8 = 0) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(encoding, UInt32(bytes.count))
        buffer.writeBytes(bytes)
        return buffer
    }

    func testMessagesSplitAcrossAndPackedInDataPayloads() throws {
        var stream = framed([1, 2, 3])
        stream.writeImmutableBuffer(framed([]))
        stream.writeImmutableBuffer(framed(Array(repeating: 9, count: 1000)))
        var deframer = MessageDeframer(maxMessageSize: 4096)
        var messages: [[UInt8]] = []
        // Drip the stream in pieces of 7 bytes.
        while stream.readableBytes > 0 {
            deframer.append(stream.readSlice(length: min(7, stream.readableBytes))!)
            while let message = try deframer.next() { messages.append(Array(message.bytes.readableBytesView)) }
        }
        XCTAssertEqual(messages, [[1, 2, 3], [], Array(repeating: 9, count: 1000)])
        XCTAssertEqual(deframer.bufferedBytes, 0)
    }

    /// Whatever room the peer's credit leaves (none, less than the message, more), messages
    /// reassembled in room reserved ahead are the messages sent, and a kept slice of the
    /// caller's buffer is never written through.
    func testMessagesReassembledInReservedRoomAreTheMessagesSent() throws {
        let large = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        for room in [0, 1, 1000, 100_000, 1 << 20] {
            var stream = framed(large)
            stream.writeImmutableBuffer(framed([4, 5]))
            stream.writeImmutableBuffer(framed(Array(large.prefix(70_000))))
            let sent = stream
            var deframer = MessageDeframer(maxMessageSize: 1 << 20)
            var messages: [[UInt8]] = []
            var offset = 0
            for size in [3, 9_000, 65_536, 1, 200_000].cycled(upTo: stream.readableBytes) {
                guard let piece = stream.readSlice(length: min(size, stream.readableBytes)) else { break }
                offset += piece.readableBytes
                deframer.append(piece)
                while let message = try deframer.next(room: room) { messages.append(Array(message.bytes.readableBytesView)) }
            }
            XCTAssertEqual(messages, [large, [4, 5], Array(large.prefix(70_000))], "room \(room)")
            XCTAssertEqual(deframer.bufferedBytes, 0)
            XCTAssertEqual(sent.readableBytesView.count, offset)
            XCTAssertEqual(Array(sent.readableBytesView.prefix(5)), [0, 0, 4, 147, 224], "the caller's bytes are untouched")
        }
    }

    /// A declared length reserves no more than the peer may send now (its credit, `room`): a
    /// prefix declaring the largest message allowed makes the deframer hold what arrived and
    /// that room, not the declared megabytes; the room grows only as more arrives.
    func testADeclaredLengthReservesNoMoreThanThePeerMaySendNow() throws {
        for room in [0, 1_000, 65_536] {
            var deframer = MessageDeframer(maxMessageSize: 64 << 20)
            var start = ByteBuffer()
            start.writeMultipleIntegers(UInt8(0), UInt32(64 << 20))
            start.writeBytes([1, 2, 3])
            deframer.append(start)
            XCTAssertNil(try deframer.next(room: room))
            // The allocator rounds a capacity up to a power of two.
            XCTAssertLessThanOrEqual(deframer.reservedBytes, 2 * (8 + room) + 64, "room \(room)")
            deframer.append(ByteBuffer(bytes: Array(repeating: 7, count: 10_000)))
            XCTAssertNil(try deframer.next(room: room))
            XCTAssertLessThanOrEqual(deframer.reservedBytes, 2 * (10_008 + room) + 64, "room \(room), more arrived")
            XCTAssertEqual(deframer.bufferedBytes, 10_008)
        }
    }

    func testDeclaredLengthOverLimitIsRefusedBeforeThePayload() {
        var deframer = MessageDeframer(maxMessageSize: 4 * 1024 * 1024)
        var prefix = ByteBuffer()
        prefix.writeMultipleIntegers(UInt8(0), UInt32(4 * 1024 * 1024 + 1))
        deframer.append(prefix)
        XCTAssertThrowsError(try deframer.next()) { error in
            XCTAssertEqual(error as? WireError, .messageTooLarge(declared: 4 * 1024 * 1024 + 1, limit: 4 * 1024 * 1024))
        }
    }

    func testDeflateRoundTrip() throws {
        let original = ByteBuffer(bytes: Array(repeating: UInt8(ascii: "a"), count: 100_000) + Array(0...255))
        let compressed = MessageCompression.deflate(original)
        XCTAssertLessThan(compressed.readableBytes, original.readableBytes / 10)
        XCTAssertEqual(compressed.getInteger(at: 0, as: UInt8.self), 0x78, "zlib (RFC 1950) header")
        XCTAssertEqual(try MessageCompression.inflate(compressed, limit: 1 << 20), original)
        let empty = MessageCompression.deflate(ByteBuffer())
        XCTAssertEqual(try MessageCompression.inflate(empty, limit: 10).readableBytes, 0)
    }

    func testInflatingPastTheLimitIsRefused() {
        let bomb = MessageCompression.deflate(ByteBuffer(repeating: 0, count: 5_000_000))
        XCTAssertThrowsError(try MessageCompression.inflate(bomb, limit: 4 * 1024 * 1024, maxRatio: 1_000_000)) {
            XCTAssertEqual($0 as? WireError, .decompressedTooLarge(limit: 4 * 1024 * 1024))
        }
        // The same bomb under the default ratio bound is caught by the ratio first.
        XCTAssertThrowsError(try MessageCompression.inflate(bomb, limit: 64 * 1024 * 1024)) {
            XCTAssertEqual($0 as? WireError, .decompressionRatio(limit: MessageCompression.defaultMaxRatio))
        }
    }

    func testCorruptAndTruncatedCompressedDataIsAnError() {
        XCTAssertThrowsError(try MessageCompression.inflate(ByteBuffer(bytes: [1, 2, 3, 4, 5]), limit: 100))
        let good = MessageCompression.deflate(ByteBuffer(bytes: Array("hello hello hello".utf8)))
        let truncated = good.getSlice(at: 0, length: good.readableBytes - 3)!
        XCTAssertThrowsError(try MessageCompression.inflate(truncated, limit: 100)) { error in
            guard case .badCompressedData = error as? WireError else { return XCTFail("\(error)") }
        }
    }
}

private extension Array where Element == Int {
    /// These sizes repeated until they add up to at least `total`.
    func cycled(upTo total: Int) -> [Int] {
        var sizes: [Int] = []
        var sum = 0
        while sum < total {
            for size in self where sum < total {
                sizes.append(size)
                sum += size
            }
        }
        return sizes
    }
}
