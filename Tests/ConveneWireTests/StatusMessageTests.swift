import ConveneWire
import NIOCore
import XCTest

/// A status message is cut to what one END frame (and one grpc-message header) carries, at a
/// character, and says so; a short one is sent as it is.
final class StatusMessageTests: XCTestCase {
    func testALongMessageIsCutAtACharacterWithinTheBound() {
        XCTAssertEqual(StatusMessage.bounded("no operation op-9"), "no operation op-9")
        let exact = String(repeating: "a", count: StatusMessage.maxBytes)
        XCTAssertEqual(StatusMessage.bounded(exact), exact, "at the bound: whole")
        for filler in ["a", "é", "🇺🇳"] {
            let cut = StatusMessage.bounded(String(repeating: filler, count: 70_000))
            XCTAssertTrue(cut.hasSuffix("… (cut)"))
            XCTAssertLessThanOrEqual(cut.utf8.count, StatusMessage.maxBytes)
            XCTAssertGreaterThan(cut.utf8.count, StatusMessage.maxBytes - 16)
            XCTAssertTrue(cut.dropLast("… (cut)".count).allSatisfy { String($0) == filler }, "whole characters only")
        }
    }

    func testAnEndFrameWithALongMessageFitsTheDefaultFrameSize() {
        var buffer = ByteBuffer()
        buffer.writeEndFrame(streamID: 1, code: .internal, message: String(repeating: "x", count: 70_000), trailers: Metadata())
        XCTAssertLessThanOrEqual(buffer.readableBytes - FrameHeader.size, 65_536, "the payload fits MAX_FRAME_SIZE's default")
    }
}
