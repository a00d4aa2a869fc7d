@testable import ConveneTransport
import ConveneRPC
import ConveneWire
import Logging
import NIOCore
import NIOEmbedded
import XCTest

/// The server connection handler driven through an EmbeddedChannel: no sockets, no threads.
final class InMemoryServerTests: XCTestCase {
    let echo = MethodDescriptor(service: "pkg.Echo", method: "Say", kind: .unary)
    let fail = MethodDescriptor(service: "pkg.Echo", method: "Fail", kind: .unary)

    func makeChannel(followingTheLoop: Bool = false) throws -> EmbeddedChannel {
        let router = Router()
        try router.register(echo, .synchronousUnary { request, context in
            context.responseTrailers.add("x-echoed", "\(request.readableBytes)")
            return request
        })
        struct Secret: Error {}
        try router.register(fail, .synchronousUnary { _, _ in throw Secret() })
        var configuration = ConnectionConfiguration()
        configuration.keepaliveInterval = followingTheLoop ? .seconds(60) : nil
        let loop = EmbeddedEventLoop()
        let handler = ServerConnectionHandler(router: router, configuration: configuration, logger: Logger(label: "test"),
                                              clock: followingTheLoop ? .following(loop) : .continuous)
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// Everything the server wrote so far, as frames (after its preface).
    func frames(_ channel: EmbeddedChannel, writes: inout Int) throws -> [Frame] {
        var all = ByteBuffer()
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            writes += 1
            all.writeBuffer(&buffer)
        }
        if all.getInteger(at: all.readerIndex, as: UInt32.self) == Preface.magic { _ = try all.readPreface() }
        var frames: [Frame] = []
        while let frame = try FrameParser().next(from: &all) { frames.append(frame) }
        XCTAssertEqual(all.readableBytes, 0)
        return frames
    }

    func testUnaryCallsOfOneReadAreAnsweredInOneWrite() throws {
        let channel = try makeChannel()
        var input = ByteBuffer()
        input.writePreface(.current)
        input.writeFrame(.settings(Settings()))
        for id in [UInt32(1), 3, 5] {
            input.writeFrame(.call(streamID: id, CallStart(path: echo.path)))
            var message = ByteBuffer()
            message.writeMultipleIntegers(UInt8(0), UInt32(2))
            message.writeBytes([UInt8(id), 0xEE])
            input.writeFrame(.data(streamID: id, message, endStream: true))
        }
        try channel.writeInbound(input)
        var writes = 0
        let frames = try frames(channel, writes: &writes)
        XCTAssertEqual(writes, 1, "preface, settings, ack and three answers coalesced into one write")
        let ends = frames.compactMap { frame -> UInt32? in
            if case .end(let id, let end) = frame, end.code == .ok, end.trailers["x-echoed"] == "2" { return id }
            return nil
        }
        XCTAssertEqual(ends, [1, 3, 5])
        let data = frames.compactMap { frame -> [UInt8]? in
            if case .data(_, let payload, _) = frame { return Array(payload.readableBytesView) } else { return nil }
        }
        XCTAssertEqual(data, [[0, 0, 0, 0, 2, 1, 0xEE], [0, 0, 0, 0, 2, 3, 0xEE], [0, 0, 0, 0, 2, 5, 0xEE]])
        XCTAssertNoThrow(try channel.finish())
    }

    /// A handler and its context hold each other; a closed connection must free both.
    func testAClosedConnectionFreesItsHandlers() throws {
        weak var server: ServerConnectionHandler?
        weak var client: ClientConnectionHandler?
        do {
            let channel = try makeChannel()
            server = try channel.pipeline.syncOperations.handler(type: ServerConnectionHandler.self)
            var input = ByteBuffer()
            input.writePreface(.current)
            input.writeFrame(.settings(Settings()))
            input.writeFrame(.call(streamID: 1, CallStart(path: echo.path)))
            try channel.writeInbound(input)
            XCTAssertNotNil(server)
            _ = try channel.finish(acceptAlreadyClosed: true)

            let clientChannel = EmbeddedChannel()
            let handler = ClientConnectionHandler(configuration: ConnectionConfiguration(), eventLoop: clientChannel.eventLoop,
                                                  allocator: clientChannel.allocator, status: ConnectionStatus())
            client = handler
            try clientChannel.pipeline.syncOperations.addHandler(handler)
            try clientChannel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            _ = try clientChannel.finish(acceptAlreadyClosed: true)
        }
        XCTAssertNil(server, "the server connection handler outlived its connection")
        XCTAssertNil(client, "the client connection handler outlived its connection")
    }

    func testThrownErrorsBecomeInternalWithoutDetails() throws {
        let channel = try makeChannel()
        var input = ByteBuffer()
        input.writePreface(.current)
        input.writeFrame(.settings(Settings()))
        input.writeFrame(.call(streamID: 1, CallStart(path: fail.path)))
        input.writeFrame(.data(streamID: 1, ByteBuffer(bytes: [0, 0, 0, 0, 0]), endStream: true))
        input.writeFrame(.call(streamID: 3, CallStart(path: echo.path)))
        input.writeFrame(.data(streamID: 3, ByteBuffer(), endStream: true))
        try channel.writeInbound(input)
        var writes = 0
        let ends = try frames(channel, writes: &writes).compactMap { frame -> CallEnd? in
            if case .end(_, let end) = frame { return end } else { return nil }
        }
        XCTAssertEqual(ends, [CallEnd(code: .internal, message: "internal error"),
                              CallEnd(code: .internal, message: "unary call ended without a request message")])
        XCTAssertNoThrow(try channel.finish())
    }

    func testStreamIDsMustIncrease() throws {
        let channel = try makeChannel()
        var input = ByteBuffer()
        input.writePreface(.current)
        input.writeFrame(.settings(Settings()))
        input.writeFrame(.call(streamID: 5, CallStart(path: echo.path)))
        input.writeFrame(.call(streamID: 3, CallStart(path: echo.path)))
        try channel.writeInbound(input)
        var writes = 0
        let last = try frames(channel, writes: &writes).last
        guard case .goAway(let goAway)? = last else { return XCTFail("expected GOAWAY, got \(String(describing: last))") }
        XCTAssertEqual(goAway.code, .protocolError)
        XCTAssertEqual(goAway.lastStreamID, 5)
        XCTAssertFalse(channel.isActive)
    }

    /// The handler's one timer, on the event loop's virtual time: a call's deadline, then
    /// keepalive, each exactly when due.
    func testTheWakeUpTimerEndsACallAtItsDeadlineAndPingsAtTheKeepaliveInterval() throws {
        let channel = try makeChannel(followingTheLoop: true)
        var input = ByteBuffer()
        input.writePreface(.current)
        input.writeFrame(.settings(Settings()))
        input.writeFrame(.call(streamID: 1, CallStart(path: echo.path, timeoutMicros: 500_000)))
        try channel.writeInbound(input)
        var writes = 0
        _ = try frames(channel, writes: &writes)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(499))
        XCTAssertEqual(try frames(channel, writes: &writes), [])
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        XCTAssertEqual(try frames(channel, writes: &writes),
                       [.end(streamID: 1, CallEnd(code: .deadlineExceeded, message: "deadline exceeded (timeout was 500 ms)"))])
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(59_499))
        XCTAssertEqual(try frames(channel, writes: &writes), [])
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        guard case .ping(_, ack: false)? = try frames(channel, writes: &writes).first else {
            return XCTFail("no keepalive PING 60 s after the last read")
        }
        XCTAssertNoThrow(try channel.finish(acceptAlreadyClosed: true))
    }
}
