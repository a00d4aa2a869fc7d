import ConveneWire
import Foundation
import NIOCore
import XCTest

/// Docs/PROTOCOL.md §8 against a real server: each client-to-server example is sent as
/// written, byte for byte, and the server answers exactly the frames the document shows
/// (statuses, messages and trailers included). The error example's END is what the server
/// answers a CALL for /x/M; its PING is answered with the ACK shown; its GOAWAY is what a
/// draining server sends after those calls.
final class ProtocolDocServerTests: XCTestCase {
    /// The server's frames up to and including the END of `stream` (SETTINGS ACKs, PINGs
    /// and connection credit are the connection's, not the example's, and are skipped
    /// unless `keep`).
    func frames(until stream: UInt32, from raw: RawConnection, keepSettings: Bool = false) async throws -> [Frame] {
        var frames: [Frame] = []
        while let frame = try await raw.nextFrame(timeout: .seconds(10)) {
            switch frame {
            case .settings, .settingsAck: if keepSettings { frames.append(frame) }
            case .windowUpdate(0, _): continue
            default: frames.append(frame)
            }
            if case .end(stream, _) = frame { return frames }
        }
        return frames
    }

    func testTheExamplesAreWhatTheServerAnswers() async throws {
        try await withServer({ $0.openBenchmark = true }) { server, _ in
            let blocks = try ProtocolDocument.hexBlocks()
            let raw = try await RawConnection(port: server.port)
            // A unary call, preface and SETTINGS included.
            try await raw.write(ByteBuffer(bytes: try XCTUnwrap(blocks["unary: client to server"])))
            let unary = try await frames(until: 1, from: raw, keepSettings: true)
            XCTAssertEqual(raw.serverPreface, .current)
            XCTAssertEqual(unary, try ProtocolDocument.frames("unary: server to client"))
            // A server-streaming call on the same connection.
            try await raw.write(ByteBuffer(bytes: try XCTUnwrap(blocks["server streaming: client to server"])))
            let streaming = try await frames(until: 3, from: raw)
            XCTAssertEqual(streaming, try ProtocolDocument.frames("server streaming: server to client"))
            // The error example: what the server answers a CALL for /x/M on stream 5...
            let documented = try ProtocolDocument.frames("errors and connection management")
            try await raw.write {
                $0.writeFrame(.call(streamID: 5, CallStart(path: "/x/M")))
                $0.writeFrame(.data(streamID: 5, .message([]), endStream: true))
            }
            let refused = try await frames(until: 5, from: raw)
            XCTAssertEqual(refused, [documented[0]])
            // ...a call on stream 7 that the client cancels (no END comes), a PING and its ACK...
            try await raw.write {
                $0.writeFrame(.call(streamID: 7, CallStart(path: "/convene.health.v1.Health/Watch")))
                $0.writeFrame(.data(streamID: 7, .message([]), endStream: true))
                $0.writeFrame(documented[1])
                $0.writeFrame(documented[2])
            }
            var answered: [Frame] = []
            while let frame = try await raw.nextFrame(timeout: .seconds(10)) {
                if case .ping(_, ack: true) = frame { answered.append(frame); break }
                if case .data(7, _, _) = frame { continue }  // Watch's first status, before the CANCEL
                answered.append(frame)
            }
            XCTAssertEqual(answered, [documented[3]])
            // ...and the GOAWAY of a draining server, naming stream 7, the last call it processed.
            Task { await server.server.transport.drain(grace: .seconds(1)) }
            let rest = try await raw.readUntilClosed(timeout: .seconds(10)).filter {
                if case .goAway = $0 { true } else { false }
            }
            XCTAssertEqual(rest, [documented[4]])
        }
    }
}
