import ConveneRPC
import ConveneWire
import NIOCore
import NIOPosix

/// A bare TCP connection that writes whatever bytes a test wants and reads frames back,
/// for attacks and byte-level checks that the client library would never produce.
public final class RawConnection: Sendable {
    public let channel: any Channel
    private let inbox: Inbox

    /// Bytes received so far and whether the server closed, shared with the event loop.
    private final class Inbox: Sendable {
        struct State {
            var bytes = ByteBuffer()
            var closed = false
            var sawPreface = false
            var preface: Preface?
        }
        let state = Locked(State())
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let inbox: Inbox
        init(_ inbox: Inbox) { self.inbox = inbox }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            _ = inbox.state.withLock { $0.bytes.writeBuffer(&bytes) }
        }
        func channelInactive(context: ChannelHandlerContext) { inbox.state.withLock { $0.closed = true } }
    }

    public init(port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws {
        let inbox = Inbox()
        self.inbox = inbox
        channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(inbox))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    public func write(_ bytes: ByteBuffer) async throws {
        try await channel.writeAndFlush(bytes)
    }

    public func write(_ build: (inout ByteBuffer) -> Void) async throws {
        var buffer = ByteBuffer()
        build(&buffer)
        try await write(buffer)
    }

    /// Preface and SETTINGS, as a well-behaved client starts.
    public func handshake(settings: Settings = Settings()) async throws {
        try await write { $0.writePreface(.current); $0.writeFrame(.settings(settings)) }
    }

    public var serverPreface: Preface? { inbox.state.withLock { $0.preface } }

    /// The server's next frame (after its preface); nil once the connection is closed.
    public func nextFrame(timeout: Duration = .seconds(10)) async throws -> Frame? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let result: (Frame?, Bool) = try inbox.state.withLock { state in
                if !state.sawPreface, let preface = try state.bytes.readPreface() {
                    state.sawPreface = true
                    state.preface = preface
                }
                if state.sawPreface,
                   let frame = try FrameParser(maxFrameSize: Settings.maxAllowedFrameSize).next(from: &state.bytes) {
                    return (frame, false)
                }
                return (nil, state.closed)
            }
            if let frame = result.0 { return frame }
            if result.1 { return nil }
            guard ContinuousClock.now < deadline else { throw RPCTimeout() }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// The next frame that is not SETTINGS, an ack or a PING.
    public func nextInteresting(timeout: Duration = .seconds(10)) async throws -> Frame? {
        while let frame = try await nextFrame(timeout: timeout) {
            switch frame {
            case .settings, .settingsAck, .ping: continue
            default: return frame
            }
        }
        return nil
    }

    /// Reads until the server closes the connection; returns the frames seen.
    public func readUntilClosed(timeout: Duration = .seconds(10)) async throws -> [Frame] {
        var frames: [Frame] = []
        while let frame = try await nextFrame(timeout: timeout) { frames.append(frame) }
        return frames
    }

    public func close() async {
        try? await channel.close()
    }
}

/// A frame did not come in time.
public struct RPCTimeout: Error {}

extension ByteBuffer {
    /// One length-prefixed message.
    public static func message(_ bytes: [UInt8], encoding: UInt8 = 0) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(encoding, UInt32(bytes.count))
        buffer.writeBytes(bytes)
        return buffer
    }
}
