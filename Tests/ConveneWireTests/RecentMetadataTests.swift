import ConveneWire
import NIOCore
import XCTest

/// A connection's parser reuses the metadata block of its last CALL when the next repeats
/// it byte for byte: whatever the peer sends, what it decodes (or refuses) is exactly what
/// a parser without it decodes (or refuses).
final class RecentMetadataTests: XCTestCase {
    static func callFrame(_ id: UInt32, _ metadata: Metadata) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(.call(streamID: id, CallStart(path: "/convene.test.v1.Service/Method", metadata: metadata)))
        return buffer
    }

    static func metadata(_ pairs: KeyValuePairs<String, String>) -> Metadata { Metadata(pairs) }

    /// The error `body` throws, if any.
    static func thrown(_ body: () throws -> Frame?) -> WireError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? WireError
        }
    }

    func testRepeatedBlocksAreReusedAndEveryBlockDecodesAsWithoutIt() throws {
        let token = Self.metadata(["authorization": "Bearer 0123456789abcdef0123456789abcdef"])
        let other = Self.metadata(["authorization": "Bearer 0123456789abcdef0123456789abcdeF"])
        var binary = Metadata()
        binary.add("trace-bin", binary: [0, 1, 2, 255])
        let frames = [Self.callFrame(1, token), Self.callFrame(3, token), Self.callFrame(5, other),
                      Self.callFrame(7, token), Self.callFrame(9, Metadata()), Self.callFrame(11, Metadata()),
                      Self.callFrame(13, binary), Self.callFrame(15, binary),
                      Self.callFrame(17, Self.metadata(["big": String(repeating: "x", count: 2000)])),
                      Self.callFrame(19, Self.metadata(["big": String(repeating: "x", count: 2000)])),
                      Self.callFrame(21, token)]
        let parser = FrameParser()
        var recent = RecentPaths()
        for frame in frames {
            var plain = frame
            var reusing = frame
            XCTAssertEqual(try parser.next(from: &reusing, recentPaths: &recent), try parser.next(from: &plain))
            XCTAssertEqual(reusing.readableBytes, 0, "the whole frame is consumed")
        }
        // Reused: the second token, the second empty block, the second binary block (a block
        // over 1 KiB is never kept, and a different block replaces the kept one).
        XCTAssertEqual(recent.metadata.reused, 3)
    }

    func testARefusedBlockIsRefusedAgainAndNeverKept() throws {
        let parser = FrameParser()
        var recent = RecentPaths()
        // An invalid key (uppercase), twice: refused both times with the same reason.
        var bad = Metadata()
        bad.add("Authorization", "x")
        for id in [UInt32(1), 3] {
            var plain = Self.callFrame(id, bad)
            var reusing = Self.callFrame(id, bad)
            let expected = Self.thrown { try parser.next(from: &plain) }
            XCTAssertNotNil(expected)
            XCTAssertEqual(Self.thrown { try parser.next(from: &reusing, recentPaths: &recent) }, expected)
        }
        XCTAssertEqual(recent.metadata.reused, 0)

        // A block kept under a large limit is decoded (and refused) anew by a stricter parser.
        let token = Self.metadata(["authorization": "Bearer 0123456789abcdef0123456789abcdef"])
        var first = Self.callFrame(5, token)
        _ = try FrameParser().next(from: &first, recentPaths: &recent)
        let strict = FrameParser(maxFrameSize: 1 << 20, maxMetadataSize: 40)
        var again = Self.callFrame(7, token)
        XCTAssertThrowsError(try strict.next(from: &again, recentPaths: &recent)) { error in
            guard case .metadataTooLarge? = error as? WireError else { return XCTFail("\(error)") }
        }
    }

    func testABlockFollowedByMoreBytesIsNotTheKeptBlock() throws {
        let token = Self.metadata(["authorization": "Bearer 0123456789abcdef0123456789abcdef"])
        let parser = FrameParser()
        var recent = RecentPaths()
        var first = Self.callFrame(1, token)
        _ = try parser.next(from: &first, recentPaths: &recent)
        // The same block with one byte more in the frame: malformed, as without the cache.
        var longer = Self.callFrame(3, token)
        longer.writeInteger(UInt8(0))
        longer.setInteger(UInt32(longer.readableBytes - FrameHeader.size), at: 0)
        var plain = longer
        let expected = Self.thrown { try parser.next(from: &plain) }
        XCTAssertNotNil(expected)
        XCTAssertEqual(Self.thrown { try parser.next(from: &longer, recentPaths: &recent) }, expected)
        XCTAssertEqual(recent.metadata.reused, 0)
    }
}
