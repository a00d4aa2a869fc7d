import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import ConveneWire
import NIOCore
import XCTest

/// Bad input, limits and flow control, over real sockets: each gets the documented
/// error, never a crash or a hang, and the server answers health right after.
final class RobustnessTests: XCTestCase {
    func assertHealthy(_ client: ConveneClient, file: StaticString = #filePath, line: UInt = #line) async throws {
        let status = try await client.health.check().status
        XCTAssertEqual(status, .serving, file: file, line: line)
    }

    func testGarbageBytesGetAGoAwayNamingThePreface() async throws {
        try await withServer { server, client in
            let raw = try await RawConnection(port: server.port)
            try await raw.write(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
            let frames = try await raw.readUntilClosed()
            XCTAssertEqual(raw.serverPreface, .current)
            guard case .goAway(let goAway)? = frames.last else { return XCTFail("expected GOAWAY, got \(frames)") }
            XCTAssertEqual(goAway.code, .protocolError)
            XCTAssertTrue(goAway.message.contains("preface"), goAway.message)
            try await assertHealthy(client)
        }
    }

    func testRandomBytesAfterTheHandshakeCloseOnlyThatConnection() async throws {
        try await withServer { server, client in
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<20 {
                let raw = try await RawConnection(port: server.port)
                try await raw.handshake()
                try await raw.write(ByteBuffer(bytes: (0..<512).map { _ in UInt8.random(in: 0...255, using: &generator) }))
                _ = try? await raw.readUntilClosed(timeout: .seconds(2))
                await raw.close()
            }
            try await assertHealthy(client)
        }
    }

    func testTruncatedFrameNeitherCrashesNorBlocksOthers() async throws {
        try await withServer { server, client in
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            var call = ByteBuffer()
            call.writeFrame(.call(streamID: 1, CallStart(path: TestServiceMethods.emptyCall.path)))
            try await raw.write(call.getSlice(at: 0, length: call.readableBytes - 3)!)
            // The half frame sits on its connection; everyone else is served.
            try await assertHealthy(client)
            await raw.close()
            try await assertHealthy(client)
        }
    }

    func testOversizedDeclaredFrameLengthIsRefusedBeforeThePayload() async throws {
        try await withServer { server, client in
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            try await raw.write { $0.writeFrameHeader(FrameHeader(length: 1 << 30, type: .data, flags: [], streamID: 1)) }
            let frames = try await raw.readUntilClosed()
            guard case .goAway(let goAway)? = frames.last else { return XCTFail("expected GOAWAY, got \(frames)") }
            XCTAssertEqual(goAway.code, .frameSizeError)
            XCTAssertEqual(goAway.message, "frame declares 1073741824 bytes of payload, over MAX_FRAME_SIZE 65536")
            try await assertHealthy(client)
        }
    }

    func testOversizedMessageIsResourceExhaustedAndTheConnectionLivesOn() async throws {
        try await withServer { server, client in
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            try await raw.write {
                $0.writeFrame(.call(streamID: 1, CallStart(path: TestServiceMethods.unaryCall.path)))
                var prefix = ByteBuffer()
                prefix.writeMultipleIntegers(UInt8(0), UInt32(5 * 1024 * 1024))
                $0.writeFrame(.data(streamID: 1, prefix, endStream: false))
            }
            guard case .end(1, let end)? = try await raw.nextInteresting() else { return XCTFail("expected END") }
            XCTAssertEqual(end.code, .resourceExhausted)
            XCTAssertEqual(end.message, "message declares 5242880 bytes, over the limit of 4194304")
            // Later bytes of the refused call are dropped; a new call on the same connection works.
            try await raw.write {
                $0.writeFrame(.data(streamID: 1, ByteBuffer(repeating: 0, count: 1000), endStream: true))
                $0.writeFrame(.call(streamID: 3, CallStart(path: TestServiceMethods.emptyCall.path)))
                $0.writeFrame(.data(streamID: 3, .message([]), endStream: true))
            }
            var ended: CallEnd?
            while let frame = try await raw.nextInteresting() {
                if case .end(3, let end) = frame { ended = end; break }
            }
            XCTAssertEqual(ended?.code, .ok)
            try await assertHealthy(client)
        }
    }

    func testDecompressionBombIsRefused() async throws {
        try await withServer { server, client in
            let bomb = MessageCompression.deflate(ByteBuffer(repeating: 0, count: 8 * 1024 * 1024))
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            try await raw.write {
                $0.writeFrame(.call(streamID: 1, CallStart(path: TestServiceMethods.unaryCall.path)))
                $0.writeFrame(.data(streamID: 1, .message(Array(buffer: bomb), encoding: 1), endStream: true))
            }
            guard case .end(1, let end)? = try await raw.nextInteresting() else { return XCTFail("expected END") }
            XCTAssertEqual(end.code, .resourceExhausted)
            XCTAssertTrue(end.message.contains("inflates"), end.message)
            try await assertHealthy(client)
        }
    }

    func testCompressedMessageWithoutNegotiatedEncodingIsAnError() async throws {
        try await withServer({ $0.connection.settings.acceptEncodings = [.identity] }) { server, client in
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            let compressed = MessageCompression.deflate(ByteBuffer(bytes: [0x0a, 0x00]))
            try await raw.write {
                $0.writeFrame(.call(streamID: 1, CallStart(path: TestServiceMethods.emptyCall.path)))
                $0.writeFrame(.data(streamID: 1, .message(Array(buffer: compressed), encoding: 1), endStream: true))
            }
            guard case .end(1, let end)? = try await raw.nextInteresting() else { return XCTFail("expected END") }
            XCTAssertEqual(end.code, .internal)
            XCTAssertEqual(end.message, "message is compressed with deflate, which was not negotiated")
            try await assertHealthy(client)
        }
    }

    func testOversizedMetadataClosesWithAGoAwayThatSaysWhy() async throws {
        try await withServer { server, client in
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            var metadata = Metadata()
            for i in 0..<40 { metadata.add("x-filler-\(i)", String(repeating: "m", count: 500)) }
            try await raw.write { $0.writeFrame(.call(streamID: 1, CallStart(path: TestServiceMethods.emptyCall.path, metadata: metadata))) }
            let frames = try await raw.readUntilClosed()
            guard case .goAway(let goAway)? = frames.last else { return XCTFail("expected GOAWAY, got \(frames)") }
            XCTAssertTrue(goAway.message.contains("over MAX_METADATA_SIZE 16384"), goAway.message)
            try await assertHealthy(client)
        }
    }

    func testAnotherProtocolVersionIsRefusedClearly() async throws {
        try await withServer { server, client in
            let raw = try await RawConnection(port: server.port)
            try await raw.write { $0.writePreface(Preface(major: 2, minor: 0)) }
            let frames = try await raw.readUntilClosed()
            guard case .goAway(let goAway)? = frames.last else { return XCTFail("expected GOAWAY, got \(frames)") }
            XCTAssertEqual(goAway.code, .unsupportedVersion)
            XCTAssertEqual(goAway.message, "this server speaks protocol 1.0; the client offered 2.0")
            try await assertHealthy(client)
        }
    }

    func testMoreConcurrentStreamsThanAllowedIsResourceExhausted() async throws {
        try await withServer({ $0.connection.settings.maxConcurrentStreams = 2 }) { server, client in
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            let sleep = try Convene_Testing_V1_SleepRequest.with { $0.milliseconds = 5000 }.serializedBytes() as [UInt8]
            try await raw.write {
                for id in [UInt32(1), 3, 5] {
                    $0.writeFrame(.call(streamID: id, CallStart(path: TestServiceMethods.sleep.path)))
                    $0.writeFrame(.data(streamID: id, .message(sleep), endStream: true))
                }
            }
            guard case .end(5, let end)? = try await raw.nextInteresting() else { return XCTFail("expected END on 5") }
            XCTAssertEqual(end.code, .resourceExhausted)
            XCTAssertEqual(end.message, "too many concurrent calls: MAX_CONCURRENT_STREAMS is 2")
            await raw.close()
            try await assertHealthy(client)
        }
    }

    func testSendingPastTheWindowIsAFlowControlError() async throws {
        try await withServer { server, client in
            // A handler that never reads its requests, so no credit comes back.
            let stuck = MethodDescriptor(service: "test.Stuck", method: "NeverReads", kind: .clientStreaming)
            try server.server.router.register(stuck, .asynchronous { _, _, _ in
                try await Task.sleep(for: .seconds(30))
            })
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            try await raw.write {
                $0.writeFrame(.call(streamID: 1, CallStart(path: stuck.path)))
                // 17 whole messages of 64,000 bytes: past the 1 MiB window without waiting for credit.
                for _ in 0..<17 {
                    $0.writeFrame(.data(streamID: 1, .message([UInt8](repeating: 7, count: 63_995)), endStream: false))
                }
            }
            let frames = try await raw.readUntilClosed()
            guard case .goAway(let goAway)? = frames.last else { return XCTFail("expected GOAWAY, got \(frames)") }
            XCTAssertEqual(goAway.code, .flowControlError)
            try await assertHealthy(client)
        }
    }

    func testSilentConnectionIsClosedAfterTheHandshakeTimeout() async throws {
        try await withServer({ $0.connection.handshakeTimeout = .milliseconds(200) }) { server, client in
            let raw = try await RawConnection(port: server.port)
            let frames = try await raw.readUntilClosed(timeout: .seconds(10))
            guard case .goAway(let goAway)? = frames.last else { return XCTFail("expected GOAWAY, got \(frames)") }
            XCTAssertEqual(goAway.code, .timeout)
            try await assertHealthy(client)
        }
    }

    func testServerPingsAnIdlePeerAndClosesWhenUnanswered() async throws {
        try await withServer({
            $0.connection.keepaliveInterval = .milliseconds(100)
            $0.connection.keepaliveTimeout = .milliseconds(100)
        }) { server, _ in
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            let frames = try await raw.readUntilClosed(timeout: .seconds(10))
            XCTAssertTrue(frames.contains { if case .ping(_, ack: false) = $0 { return true } else { return false } })
            guard case .goAway(let goAway)? = frames.last else { return XCTFail("expected GOAWAY, got \(frames)") }
            XCTAssertEqual(goAway.code, .timeout)
        }
    }

    func testSlowReaderDoesNotStallOtherCallsOnTheConnection() async throws {
        try await withServer { server, _ in
            let client = try server.adminClient()
            defer { Task { await client.close() } }
            // 2,000 messages of 64 KB that nobody reads: far more than the 1 MiB window.
            let stalled = try await client.benchmark.streamFromServer(count: 2000, size: 64_000)
            try await Task.sleep(for: .milliseconds(100))
            for i in 0..<50 {
                let echo = try await client.benchmark.echo(Array("call \(i)".utf8))
                XCTAssertEqual(echo.payload, Data("call \(i)".utf8))
            }
            // The stalled stream still delivers when read.
            var iterator = stalled.responses.makeAsyncIterator()
            let first = try await iterator.next()
            XCTAssertEqual(first?.payload.count, 64_000)
            stalled.cancel()
        }
    }
}

import Foundation
