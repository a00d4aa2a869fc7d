import ConveneTesting
import ConveneWire
import Foundation
import NIOCore
import XCTest

/// The annotated hex examples in Docs/PROTOCOL.md are decoded and re-encoded here, so the
/// document and the code cannot drift (and replayed against a real server in
/// ConveneConformanceTests' ProtocolDocServerTests). Run with CONVENE_PRINT_DOC_EXAMPLES=1 to print them.
final class ProtocolDocTests: XCTestCase {
    struct Example {
        let name: String
        let preface: Preface?
        let frames: [Frame]
    }

    static func message(_ bytes: [UInt8], encoding: UInt8 = 0) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(encoding, UInt32(bytes.count))
        buffer.writeBytes(bytes)
        return buffer
    }

    static let examples: [Example] = {
        var requestID = Metadata()
        requestID.add("x-request-id", "42")
        return [
            Example(name: "unary: client to server", preface: .current, frames: [
                .settings(Settings()),
                .call(streamID: 1, CallStart(path: "/convene.health.v1.Health/Check", timeoutMicros: 5_000_000,
                                             responseEncoding: .identity, metadata: requestID)),
                .data(streamID: 1, message([]), endStream: true),
            ]),
            Example(name: "unary: server to client", preface: .current, frames: [
                .settings(Settings()),
                .settingsAck,
                .data(streamID: 1, message([0x08, 0x01]), endStream: false),
                .end(streamID: 1, CallEnd(code: .ok)),
            ]),
            Example(name: "server streaming: client to server", preface: nil, frames: [
                .call(streamID: 3, CallStart(path: "/convene.benchmark.v1.Benchmark/StreamFromServer")),
                .data(streamID: 3, message([0x08, 0x02, 0x10, 0x03]), endStream: true),
                .windowUpdate(streamID: 3, increment: 524_288),
            ]),
            Example(name: "server streaming: server to client", preface: nil, frames: [
                .data(streamID: 3, message([0x0A, 0x03, 0x43, 0x43, 0x43]), endStream: false),
                .data(streamID: 3, message([0x0A, 0x03, 0x43, 0x43, 0x43]), endStream: false),
                .end(streamID: 3, CallEnd(code: .ok)),
            ]),
            Example(name: "errors and connection management", preface: nil, frames: [
                // What a server answers a CALL for /x/M (PROTOCOL.md §6, unknown methods).
                .end(streamID: 5, CallEnd(code: .unimplemented, message: "unknown service x")),
                .cancel(streamID: 7, .cancelled),
                .ping(1, ack: false),
                .ping(1, ack: true),
                .goAway(GoAway(lastStreamID: 7, code: .noError, message: "server is shutting down")),
            ]),
        ]
    }()

    static func encode(_ example: Example) -> ByteBuffer {
        var buffer = ByteBuffer()
        if let preface = example.preface { buffer.writePreface(preface) }
        for frame in example.frames { buffer.writeFrame(frame) }
        return buffer
    }

    func testDocumentExamplesDecodeAndReEncode() throws {
        if ProcessInfo.processInfo.environment["CONVENE_PRINT_DOC_EXAMPLES"] != nil {
            for example in Self.examples {
                print("# \(example.name)")
                print(Self.encode(example).readableBytesView.map { String(format: "%02x", $0) }.joined(separator: " "))
            }
        }
        let blocks = try ProtocolDocument.hexBlocks()
        for example in Self.examples {
            guard let bytes = blocks[example.name] else {
                XCTFail("Docs/PROTOCOL.md has no ```hex block titled '# \(example.name)'")
                continue
            }
            // Decode the document's bytes...
            var buffer = ByteBuffer(bytes: bytes)
            if example.preface != nil {
                XCTAssertEqual(try buffer.readPreface(), example.preface, example.name)
            }
            var decoded: [Frame] = []
            while let frame = try FrameParser().next(from: &buffer) { decoded.append(frame) }
            XCTAssertEqual(buffer.readableBytes, 0, "\(example.name): trailing bytes")
            XCTAssertEqual(decoded, example.frames, example.name)
            // ...and re-encode the frames to the same bytes.
            XCTAssertEqual(Array(Self.encode(example).readableBytesView), bytes, example.name)
        }
    }
}
