import ConveneRPC
import Foundation
import NIOCore
import NIOPosix

/// Reads a runner process's messages on a network event loop (a socket of that loop, not a
/// thread of its own): an answer then reaches the loop of the connection that waits for it
/// without a thread in between to wake, and with nothing else to do, answers it there.
///
/// The loop only decodes and hands on; `ProcessEngine.received` sends anything that may
/// block (a commit, a host function) to the engine's own threads. The process's end (the
/// connection's end, or a frame that breaks the protocol) is reported from a thread of its
/// own, which waits for the process to exit.
enum RunnerReader {
    /// Starts reading `process`'s connection on a loop of `group`.
    static func start(_ process: RunnerProcess, engine: ProcessEngine, group: any EventLoopGroup) {
        let ended = ProcessEnd(process: process, engine: engine)
        // Read already while the process started (after its ready message).
        let early = process.channel.takeBuffered()
        // A descriptor of the loop's own: NIO closes it when the channel ends, and the
        // process's connection keeps the original for its writes.
        let descriptor = dup(process.channel.descriptor)
        guard descriptor >= 0 else {
            process.fail("could not be read (dup: \(String(cString: strerror(errno))))")
            ended.report()
            return
        }
        ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RunnerInboundHandler(process: process, engine: engine, ended: ended, early: early))
                }
            }
            .withConnectedSocket(descriptor)
            .whenFailure { error in
                // The descriptor is left open: NIO may have closed it already, and closing
                // it again could close another (this happens only if NIO cannot take a socket).
                process.fail("could not be read (\(error))")
                ended.report()
            }
    }
}

/// Reports a process's end once, from a thread that may wait for it to exit.
private final class ProcessEnd: Sendable {
    private let process: RunnerProcess
    private let engine: ProcessEngine
    private let reported = Locked(false)

    init(process: RunnerProcess, engine: ProcessEngine) {
        self.process = process
        self.engine = engine
    }

    func report() {
        guard reported.withLock({ done in
            defer { done = true }
            return !done
        }) else { return }
        let process = self.process, engine = self.engine
        let thread = Thread {
            process.channel.close()
            engine.ended(process, how: process.reap())
        }
        thread.name = "plugin \(engine.manifest.name) ended"
        thread.start()
    }
}

/// Frames of a runner's connection: a length (u32, big-endian, at most
/// `RunnerMessage.maxFrame`), then the message.
private final class RunnerInboundHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let process: RunnerProcess
    private let engine: ProcessEngine
    private let ended: ProcessEnd
    private var input: ByteBuffer?

    init(process: RunnerProcess, engine: ProcessEngine, ended: ProcessEnd, early: ByteBuffer) {
        self.process = process
        self.engine = engine
        self.ended = ended
        input = early.readableBytes > 0 ? early : nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if input != nil { deliver(context: context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var pending = input {
            input = nil  // so that `pending` is the buffer's only reference while it grows
            pending.writeBuffer(&bytes)
            input = pending
        } else {
            input = bytes
        }
        deliver(context: context)
    }

    /// Hands on every whole message read; keeps the rest of a frame for the next read.
    private func deliver(context: ChannelHandlerContext) {
        guard var buffer = input else { return }
        input = nil
        do {
            while let message = try Self.nextMessage(in: &buffer) {
                // A process that broke a rule is ended: nothing more it sent counts.
                guard engine.received(message, from: process) else {
                    context.close(promise: nil)
                    return
                }
            }
        } catch {
            process.fail("broke the runner protocol: \(error)")
            context.close(promise: nil)
            return
        }
        if buffer.readableBytes > 0 { input = buffer }
    }

    /// The next whole message in `buffer`, nil when more bytes are needed.
    private static func nextMessage(in buffer: inout ByteBuffer) throws -> RunnerMessage? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard Int(length) <= RunnerMessage.maxFrame else {
            throw RunnerProtocolError(description: "a frame of \(length) bytes is over the limit")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        guard var body = buffer.readSlice(length: Int(length)) else { return nil }
        return try RunnerMessage(decoding: &body)
    }

    func channelInactive(context: ChannelHandlerContext) {
        input = nil
        ended.report()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
