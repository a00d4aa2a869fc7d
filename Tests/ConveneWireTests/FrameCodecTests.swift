import ConveneWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import XCTest

final class FrameCodecTests: XCTestCase {
    static func sampleFrames() -> [Frame] {
        var metadata = Metadata()
        metadata.add("authorization", "Bearer abc")
        metadata.add("trace-bin", binary: [0, 1, 2, 255])
        var settings = Settings()
        settings.maxFrameSize = 32 * 1024
        settings.acceptEncodings = [.identity]
        var message = ByteBuffer()
        message.writeMultipleIntegers(UInt8(0), UInt32(3))
        message.writeBytes([1, 2, 3])
        return [
            .settings(settings),
            .settingsAck,
            .call(streamID: 1, CallStart(path: "/convene.health.v1.Health/Check", timeoutMicros: 1_500_000,
                                         responseEncoding: .deflate, metadata: metadata)),
            .headers(streamID: 1, metadata),
            .data(streamID: 1, message, endStream: true),
            .data(streamID: 3, ByteBuffer(), endStream: false),
            .end(streamID: 1, CallEnd(code: .notFound, message: "no\tsuch\nthing 🏳️ 𝄞", trailers: metadata)),
            .cancel(streamID: 5, .cancelled),
            .ping(0x0102_0304_0506_0708, ack: false),
            .ping(42, ack: true),
            .goAway(GoAway(lastStreamID: 7, code: .noError, message: "server is shutting down")),
            .windowUpdate(streamID: 9, increment: 65536),
        ]
    }

    func testEveryFrameRoundTrips() throws {
        for frame in Self.sampleFrames() {
            var buffer = ByteBuffer()
            buffer.writeFrame(frame)
            let decoded = try FrameParser().next(from: &buffer)
            XCTAssertEqual(decoded, frame)
            XCTAssertEqual(buffer.readableBytes, 0, "\(frame.type) left bytes behind")
        }
    }

    func testDecoderVerifierDripsAndBatches() throws {
        let frames = Self.sampleFrames()
        let inputs: [(ByteBuffer, [Frame])] = frames.map { frame in
            var buffer = ByteBuffer()
            buffer.writeFrame(frame)
            return (buffer, [frame])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: inputs) { FrameDecoder() }
    }

    func testManyFramesInOneBufferAndCleanFinish() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var buffer = ByteBuffer()
        for frame in Self.sampleFrames() { buffer.writeFrame(frame) }
        try channel.writeInbound(buffer)
        for frame in Self.sampleFrames() {
            XCTAssertEqual(try channel.readInbound(as: Frame.self), frame)
        }
        XCTAssertNil(try channel.readInbound(as: Frame.self))
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testOversizedDeclaredLengthIsRefusedFromTheHeaderAlone() {
        var buffer = ByteBuffer()
        buffer.writeFrameHeader(FrameHeader(length: 1 << 30, type: .data, flags: [], streamID: 1))
        // Only the 10 header bytes: the parser must refuse without waiting for the payload.
        XCTAssertThrowsError(try FrameParser(maxFrameSize: 65536).next(from: &buffer)) { error in
            XCTAssertEqual(error as? WireError, .frameTooLarge(declared: 1 << 30, limit: 65536))
            XCTAssertEqual((error as? WireError)?.goAwayCode, .frameSizeError)
        }
    }

    func testTruncatedFrameWaitsForMoreBytes() throws {
        var full = ByteBuffer()
        full.writeFrame(.ping(7, ack: false))
        var partial = full.getSlice(at: 0, length: full.readableBytes - 1)!
        XCTAssertNil(try FrameParser().next(from: &partial))
        XCTAssertEqual(partial.readableBytes, full.readableBytes - 1, "nothing consumed")
    }

    func testMalformedPayloadsAreNamed() {
        func decode(_ header: FrameHeader, _ payload: [UInt8]) -> WireError? {
            var buffer = ByteBuffer()
            buffer.writeFrameHeader(header)
            buffer.writeBytes(payload)
            do { _ = try FrameParser().next(from: &buffer); return nil } catch { return error }
        }
        XCTAssertEqual(decode(FrameHeader(length: 3, type: .ping, flags: [], streamID: 0), [1, 2, 3]),
                       .malformed(.ping, "payload must be 8 bytes, got 3"))
        XCTAssertEqual(decode(FrameHeader(length: 8, type: .ping, flags: [], streamID: 3), [UInt8](repeating: 0, count: 8)),
                       .badStreamID(.ping, 3))
        XCTAssertEqual(decode(FrameHeader(length: 0, type: .data, flags: [], streamID: 0), []), .badStreamID(.data, 0))
        XCTAssertEqual(decode(FrameHeader(length: 0, type: FrameType(rawValue: 0x42), flags: [], streamID: 1), []),
                       .malformed(FrameType(rawValue: 0x42), "unknown frame type"))
        XCTAssertEqual(decode(FrameHeader(length: 4, type: .windowUpdate, flags: [], streamID: 1), [0, 0, 0, 0]),
                       .malformed(.windowUpdate, "increment 0 is outside 1...2147483647"))
        XCTAssertEqual(decode(FrameHeader(length: 6, type: .settings, flags: [], streamID: 0), [0, 1, 0, 0, 0, 1]),
                       .badSetting("MAX_FRAME_SIZE 1 is outside 16384...16777215"))
    }

    func testMetadataRulesAndLimit() {
        XCTAssertNil(Metadata.validate(key: "x-partner-id", value: .string("TCC 12")))
        XCTAssertNotNil(Metadata.validate(key: "X-Upper", value: .string("a")))
        XCTAssertNotNil(Metadata.validate(key: "plain", value: .binary([1])))
        XCTAssertNotNil(Metadata.validate(key: "blob-bin", value: .string("a")))
        XCTAssertNotNil(Metadata.validate(key: "newline", value: .string("a\nb")))

        var metadata = Metadata()
        metadata.add("big", String(repeating: "a", count: 2000))
        var buffer = ByteBuffer()
        buffer.writeFrame(.headers(streamID: 1, metadata))
        XCTAssertThrowsError(try FrameParser(maxFrameSize: 65536, maxMetadataSize: 1024).next(from: &buffer)) { error in
            guard case .metadataTooLarge(_, 1024) = error as? WireError else { return XCTFail("\(error)") }
        }
    }

    func testPrefaceAndVersion() throws {
        var buffer = ByteBuffer()
        buffer.writePreface(.current)
        XCTAssertEqual(Array(buffer.readableBytesView), [0x43, 0x4E, 0x56, 0x4E, 1, 0, 0, 0])
        XCTAssertEqual(try buffer.readPreface(), .current)
        var garbage = ByteBuffer(bytes: Array("GET / HTTP/1.1\r\n".utf8))
        XCTAssertThrowsError(try garbage.readPreface()) { XCTAssertEqual($0 as? WireError, .badPreface) }
    }

    func testStatusCodesAreGRPCs() {
        XCTAssertEqual(StatusCode.ok.rawValue, 0)
        XCTAssertEqual(StatusCode.deadlineExceeded.rawValue, 4)
        XCTAssertEqual(StatusCode.unauthenticated.rawValue, 16)
        XCTAssertEqual(StatusCode(name: "RESOURCE_EXHAUSTED"), .resourceExhausted)
        XCTAssertEqual(StatusCode(rawValue: 40).name, "CODE_40")
    }
}
