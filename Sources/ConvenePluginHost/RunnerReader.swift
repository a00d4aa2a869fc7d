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

/// A runner's connection as it is read: whole messages out, and the rest of a frame kept for
/// the next read. Only that rest is kept: what was read before it is let go (a runner that
/// always has a frame half sent, logging without a pause, once made this buffer grow by every
/// byte it sent).
struct RunnerFrames {
    private var input: ByteBuffer?

    init(_ early: ByteBuffer = ByteBuffer()) {
        input = early.readableBytes > 0 ? early : nil
    }

    var isEmpty: Bool { input == nil }

    /// The memory held for a frame not yet whole.
    var heldBytes: Int { input?.capacity ?? 0 }

    mutating func append(_ bytes: inout ByteBuffer) {
        if input == nil {
            input = bytes
        } else {
            input!.writeBuffer(&bytes)  // in place: `input` is the buffer's only reference
        }
    }

    /// The next whole message; nil when more bytes are needed (then only the rest of the
    /// frame is kept). Throws on a frame that breaks the protocol.
    mutating func next() throws -> RunnerMessage? {
        guard var buffer = input else { return nil }
        input = nil
        if let message = try RunnerMessage.take(from: &buffer) {
            if buffer.readableBytes > 0 { input = buffer }
            return message
        }
        // Not a whole frame: kept from its start, once per read (not per message).
        if buffer.readerIndex > 0 { buffer.discardReadBytes() }
        input = buffer
        return nil
    }
}

/// Frames of a runner's connection: a length (u32, big-endian, at most
/// `RunnerMessage.maxFrame`), then the message.
private final class RunnerInboundHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let process: RunnerProcess
    private let engine: ProcessEngine
    private let ended: ProcessEnd
    private var frames: RunnerFrames

    init(process: RunnerProcess, engine: ProcessEngine, ended: ProcessEnd, early: ByteBuffer) {
        self.process = process
        self.engine = engine
        self.ended = ended
        frames = RunnerFrames(early)
    }

    func channelActive(context: ChannelHandlerContext) {
        if !frames.isEmpty { deliver(context: context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        frames.append(&bytes)
        deliver(context: context)
    }

    /// Hands on every whole message read.
    private func deliver(context: ChannelHandlerContext) {
        do {
            while let message = try frames.next() {
                // A process that broke a rule is ended: nothing more it sent counts.
                guard engine.received(message, from: process) else {
                    frames = RunnerFrames()
                    context.close(promise: nil)
                    return
                }
            }
        } catch {
            frames = RunnerFrames()
            process.fail("broke the runner protocol: \(error)")
            context.close(promise: nil)
            return
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        frames = RunnerFrames()
        ended.report()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
