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
