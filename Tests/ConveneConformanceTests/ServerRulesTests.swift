import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import ConveneWire
import Foundation
import NIOCore
import XCTest

/// Rules the server enforces by itself, checked over a raw socket (RawConnection has no
/// timer and no flow control of its own, so whatever happens is the server's doing):
/// deadlines, the inflated size limit, PING policing and GOAWAY's last stream id.
final class ServerRulesTests: XCTestCase {
    func sleepRequest(milliseconds: Int32) throws -> [UInt8] {
        try Convene_Testing_V1_SleepRequest.with { $0.milliseconds = milliseconds }.serializedBytes()
    }

    func acks(_ frames: [Frame]) -> Int {
        frames.filter { if case .ping(_, ack: true) = $0 { true } else { false } }.count
    }

    /// The next END on `id`, skipping other frames.
    func end(of id: UInt32, on raw: RawConnection) async throws -> CallEnd? {
        while let frame = try await raw.nextInteresting() {
            if case .end(id, let end) = frame { return end }
        }
        return nil
    }

    func testTheServerItselfEndsACallWhenItsDeadlinePasses() async throws {
        try await withServer { server, _ in
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            let sleep = try sleepRequest(milliseconds: 30_000)
            let started = ContinuousClock.now
            try await raw.write {
                // An asynchronous handler that would sleep 30 s, and a synchronous one whose request never comes.
                $0.writeFrame(.call(streamID: 1, CallStart(path: TestServiceMethods.sleep.path, timeoutMicros: 300_000)))
                $0.writeFrame(.data(streamID: 1, .message(sleep), endStream: true))
                $0.writeFrame(.call(streamID: 3, CallStart(path: HealthMethods.check.path, timeoutMicros: 200_000)))
            }
            var ends: [UInt32: CallEnd] = [:]
            while ends.count < 2, let frame = try await raw.nextInteresting(timeout: .seconds(20)) {
                if case .end(let id, let end) = frame { ends[id] = end }
            }
            XCTAssertEqual(ends[1], CallEnd(code: .deadlineExceeded, message: "deadline exceeded (timeout was 300 ms)"))
            XCTAssertEqual(ends[3], CallEnd(code: .deadlineExceeded, message: "deadline exceeded (timeout was 200 ms)"))
            XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(300), "not before the deadline")
            // The connection lives on.
            try await raw.write {
                $0.writeFrame(.call(streamID: 5, CallStart(path: TestServiceMethods.emptyCall.path)))
                $0.writeFrame(.data(streamID: 5, .message([]), endStream: true))
            }
            let answered = try await end(of: 5, on: raw)
            XCTAssertEqual(answered?.code, .ok)
            await raw.close()
        }
    }

    /// A deadline that passed while the call waited for its turn in the read that brought it
    /// (behind a synchronous method that takes 20 ms): the method does not run, the call ends
    /// DEADLINE_EXCEEDED. A call with time left in the same read is answered.
    func testASynchronousCallWhoseDeadlinePassedBeforeItsTurnDoesNotRun() async throws {
        try await withServer { server, _ in
            let ran = LifecycleTests.Counter()
            let slow = MethodDescriptor(service: "test.Turn", method: "Slow", kind: .unary)
            let count = MethodDescriptor(service: "test.Turn", method: "Count", kind: .unary)
            try server.server.router.register(slow, .synchronousUnary { request, _ in
                usleep(20_000)
                return request
            })
            try server.server.router.register(count, .synchronousUnary { request, _ in
                ran.add(1, ordering: .relaxed)
                return request
            })
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            try await raw.write {
                $0.writeFrame(.call(streamID: 1, CallStart(path: slow.path)))
                $0.writeFrame(.data(streamID: 1, .message([]), endStream: true))
                $0.writeFrame(.call(streamID: 3, CallStart(path: count.path, timeoutMicros: 5_000)))
                $0.writeFrame(.data(streamID: 3, .message([]), endStream: true))
                $0.writeFrame(.call(streamID: 5, CallStart(path: count.path, timeoutMicros: 10_000_000)))
                $0.writeFrame(.data(streamID: 5, .message([]), endStream: true))
            }
            var ends: [UInt32: CallEnd] = [:]
            while ends.count < 3, let frame = try await raw.nextInteresting(timeout: .seconds(20)) {
                if case .end(let id, let end) = frame { ends[id] = end }
            }
            XCTAssertEqual(ends[1]?.code, .ok)
            XCTAssertEqual(ends[3], CallEnd(code: .deadlineExceeded, message: "deadline exceeded: it passed before the call could run"))
            XCTAssertEqual(ends[5]?.code, .ok)
            XCTAssertEqual(ran.load(ordering: .relaxed), 1, "only the call with time left ran")
            await raw.close()
        }
    }

    func testAModestlyCompressibleMessageThatInflatesPastTheLimitIsResourceExhausted() async throws {
        // A larger window, so this client may send the whole compressed message at once.
        try await withServer({ $0.connection.settings.initialWindowSize = 8 << 20 }) { server, client in
            // Text of 16 letters at random: it deflates to about half, far from the
            // ratio bound, and inflates to 4 MiB + 1 KiB, just past MAX_MESSAGE_SIZE.
            var generator = SplitMix(seed: 1353)
            let text = (0..<(4 << 20) + 1024).map { _ in UInt8(ascii: "a") + UInt8(generator.next() % 16) }
            let compressed = MessageCompression.deflate(ByteBuffer(bytes: text))
            XCTAssertLessThan(compressed.readableBytes, 3 << 20, "declared length under the limit")
            var message = ByteBuffer.message(Array(buffer: compressed), encoding: 1)
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            try await raw.write { buffer in
                buffer.writeFrame(.call(streamID: 1, CallStart(path: TestServiceMethods.unaryCall.path)))
                while message.readableBytes > 0 {
                    let chunk = message.readSlice(length: min(message.readableBytes, 60_000))!
                    buffer.writeFrame(.data(streamID: 1, chunk, endStream: message.readableBytes == 0))
                }
            }
            let end = try await end(of: 1, on: raw)
            XCTAssertEqual(end?.code, .resourceExhausted)
            XCTAssertEqual(end?.message, "message inflates past the limit of 4194304 bytes (MAX_MESSAGE_SIZE)")
            await raw.close()
            let status = try await client.health.check().status
            XCTAssertEqual(status, .serving)
        }
    }

    func testRapidPingsStrikeAndASlowOneSetsTheStrikesBack() async throws {
        try await withServer({ $0.connection.minPingInterval = .milliseconds(300) }) { server, client in
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            // Six PINGs in one write: the first and five strikes, all answered.
            try await raw.write { for i in 0..<6 { $0.writeFrame(.ping(UInt64(i), ack: false)) } }
            var answered = 0
            while answered < 6, let frame = try await raw.nextFrame() {
                if case .goAway = frame { return XCTFail("refused within the first six: \(frame)") }
                if case .ping(_, ack: true) = frame { answered += 1 }
            }
            // More than the interval later, a run of seven: the first is no strike, the
            // seventh is the sixth strike in a row and is refused.
            try await Task.sleep(for: .milliseconds(400))
            try await raw.write { for i in 6..<13 { $0.writeFrame(.ping(UInt64(i), ack: false)) } }
            let frames = try await raw.readUntilClosed()
            XCTAssertEqual(acks(frames), 6, "\(frames)")
            guard case .goAway(let goAway)? = frames.last else { return XCTFail("expected GOAWAY, got \(frames)") }
            XCTAssertEqual(goAway.code, .enhanceYourCalm)
            let status = try await client.health.check().status
            XCTAssertEqual(status, .serving)
        }
    }

    func testGoAwayNamesTheLastProcessedCallAndLaterCallsGetNoAnswer() async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection(port: server.port)
        try await raw.handshake()
        let sleep = try sleepRequest(milliseconds: 500)
        try await raw.write {
            for id in [UInt32(1), 3] {
                $0.writeFrame(.call(streamID: id, CallStart(path: TestServiceMethods.sleep.path)))
                $0.writeFrame(.data(streamID: id, .message(sleep), endStream: true))
            }
        }
        // The server has the calls once it answers a PING sent after them.
        try await raw.write { $0.writeFrame(.ping(42, ack: false)) }
        while let frame = try await raw.nextFrame(), frame != .ping(42, ack: true) {}
        let shutdown = Task { await server.server.shutDown() }
        guard case .goAway(let goAway)? = try await raw.nextInteresting() else { return XCTFail("expected GOAWAY") }
        XCTAssertEqual(goAway.code, .noError)
        XCTAssertEqual(goAway.lastStreamID, 3)
        try await raw.write {
            $0.writeFrame(.call(streamID: 5, CallStart(path: TestServiceMethods.emptyCall.path)))
            $0.writeFrame(.data(streamID: 5, .message([]), endStream: true))
        }
        let rest = try await raw.readUntilClosed()
        let ends = rest.compactMap { frame -> UInt32? in if case .end(let id, let end) = frame, end.code == .ok { id } else { nil } }
        XCTAssertEqual(ends.sorted(), [1, 3], "the accepted calls finish; the one above the last id gets nothing")
        await shutdown.value
        await server.stop()
    }

    func testAProtocolErrorGoAwayNamesTheLastProcessedCallNotTheOffendingFrame() async throws {
        try await withServer { server, _ in
            let raw = try await RawConnection(port: server.port)
            try await raw.handshake()
            try await raw.write {
                $0.writeFrame(.call(streamID: 1, CallStart(path: TestServiceMethods.sleep.path)))
                $0.writeFrame(.call(streamID: 3, CallStart(path: TestServiceMethods.sleep.path)))
                $0.writeFrame(.cancel(streamID: 9, .cancelled))
            }
            let frames = try await raw.readUntilClosed()
            guard case .goAway(let goAway)? = frames.last else { return XCTFail("expected GOAWAY, got \(frames)") }
            XCTAssertEqual(goAway, GoAway(lastStreamID: 3, code: .protocolError, message: "CANCEL frame on stream 9, which no CALL opened"))
        }
    }
}

/// A small seeded generator (SplitMix64), so a test's data is the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
