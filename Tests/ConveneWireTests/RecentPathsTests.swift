import ConveneWire
import NIOCore
import XCTest

/// A connection's parser reuses the paths of its last calls: whatever the peer sends, what
/// it decodes is exactly what a parser without them decodes, and what it keeps is bounded.
final class RecentPathsTests: XCTestCase {
    /// A CALL frame for `path`, with the path byte at `badByte` (if any) made invalid UTF-8.
    static func callFrame(_ id: UInt32, _ path: String, badByte: Int? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(.call(streamID: id, CallStart(path: path)))
        if let badByte { buffer.setInteger(UInt8(0xFF), at: FrameHeader.size + 11 + badByte) }
        return buffer
    }

    func testEveryPathDecodesAsWithoutThemWhileAFewAreKept() throws {
        let long = "/convene.meetings.v1.Meetings/GetMeeting"
        let sameLength = "/convene.meetings.v1.Meetings/GetMeetinh"
        var frames = [Self.callFrame(1, long), Self.callFrame(3, sameLength), Self.callFrame(5, long),
                      Self.callFrame(7, "/a.B/C"), Self.callFrame(9, "/" + String(repeating: "x", count: 140)),
                      Self.callFrame(11, long, badByte: 3), Self.callFrame(13, long, badByte: 3)]
        // More distinct paths than are kept, then the first again: it was replaced, and is decoded anew.
        for i in 0..<12 { frames.append(Self.callFrame(UInt32(15 + 2 * i), "/convene.test.v1.Service/Method\(i)")) }
        frames.append(Self.callFrame(99, long))
        frames.append(Self.callFrame(101, "/convene.test.v1.Service/Method11"))

        let parser = FrameParser()
        var paths = RecentPaths()
        for frame in frames {
            var plain = frame
            var reusing = frame
            let expected = try parser.next(from: &plain)
            let decoded = try parser.next(from: &reusing, recentPaths: &paths)
            XCTAssertEqual(decoded, expected)
            XCTAssertEqual(reusing.readableBytes, 0, "the whole frame is consumed")
        }
        XCTAssertEqual(try parser.next(from: &frames[5], recentPaths: &paths),
                       .call(streamID: 11, CallStart(path: "/co\u{FFFD}vene.meetings.v1.Meetings/GetMeeting")),
                       "invalid UTF-8 is repaired, never matched to a kept path")
    }

    func testAPathLongerThanItsFrameIsMalformedAsWithoutThem() {
        var frame = Self.callFrame(1, "/convene.meetings.v1.Meetings/GetMeeting")
        // Declare a path 10 bytes longer than the payload holds (the frame's length unchanged).
        frame.setInteger(UInt16(50), at: FrameHeader.size + 9)
        var paths = RecentPaths()
        XCTAssertThrowsError(try FrameParser().next(from: &frame, recentPaths: &paths)) { error in
            XCTAssertEqual(error as? WireError, .malformed(.call, "truncated before the end of the method path"))
        }
    }
}
