import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Connections on one event loop that gave up their turn (a pipelining flood cut after
/// `maxCallsPerTurn` calls), resumed together once the loop has polled its sockets again.
///
/// NIO runs a task submitted while it runs tasks in the same tick, and so does a scheduled
/// task that has come due by the time it next looks, before it polls any socket: a
/// connection that resumed with `execute`, or after a short delay, went on before any
/// other connection was read. (With a delay, whatever ran after it was scheduled, a slow
/// moment of the machine, or the other yielder's turn, made it due, and two flooding
/// connections then took turns for seconds without the loop polling once.) Here the loop
/// has a pipe to itself, opened at the first yield: the first connection to yield writes a
/// byte into it, and the loop reads that byte, and resumes everyone waiting, when it next
/// polls, in turn with its other ready sockets. Confined to its loop.
package final class LoopTurns: LoopShared {
    private enum Signal {
        case unopened
        /// Being registered (at once, on a `MultiThreadedEventLoopGroup`'s loop): meanwhile
        /// a batch is a task, and no second pipe is opened.
        case opening
        case open(any Channel)
        /// No pipe: the loop cannot have one (`EmbeddedEventLoop`, where fairness matters
        /// little), or it closed (the loop is closing). A batch is then a task.
        case unavailable
    }

    package let eventLoop: any EventLoop
    /// Connections waiting for the next batch, in the order they yielded.
    private var waiting: [() -> Void] = []
    private var resuming = false
    private var signal = Signal.unopened
    /// A byte is in the pipe, or the task that stands in for it is submitted.
    private var signalled = false

    package init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// `resume` runs on the loop after the loop has polled its sockets again.
    package func yield(_ resume: @escaping () -> Void) {
        waiting.append(resume)
        // A connection that yields again while its batch runs waits for the next one,
        // signalled when this batch has ended.
        if !resuming { signalBatch() }
    }

    private func signalBatch() {
        guard !signalled else { return }
        signalled = true
        if case .unopened = signal { openSignal() }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        if case .open(let channel) = signal {
            let written = eventLoop.makePromise(of: Void.self)
            written.futureResult.whenFailure { _ in bound.value.writeFailed(on: channel) }
            channel.writeAndFlush(ByteBuffer(integer: UInt8(1)), promise: written)
        } else {
            eventLoop.execute { bound.value.resumeBatch() }
        }
    }

    /// The byte was read (or the task that stands in for it ran).
    fileprivate func resumeBatch() {
        signalled = false
        let batch = waiting
        waiting = []
        resuming = true
        for resume in batch { resume() }
        resuming = false
        if !waiting.isEmpty { signalBatch() }
    }

    /// A byte could not be written: that pipe is closed, and a new one opened at once.
    private func writeFailed(on channel: any Channel) {
        guard case .open(let current) = signal, current === channel else { return }
        signal = .unopened
        channel.close(promise: nil)
        signalAgain()
    }

    /// The pipe closed (the loop is closing): whoever waits goes on by a task.
    fileprivate func pipeClosed(_ channel: any Channel) {
        guard case .open(let current) = signal, current === channel else { return }
        signal = .unavailable
        signalAgain()
    }

    private func signalAgain() {
        guard signalled else { return }
        signalled = false
        if !waiting.isEmpty { signalBatch() }
    }

    /// Registers the pipe with the loop; a `MultiThreadedEventLoopGroup`'s loop, called on
    /// it, registers it at once. Without a pipe now (out of descriptors), the next yield
    /// tries again.
    private func openSignal() {
        guard let bootstrap = NIOPipeBootstrap(validatingGroup: eventLoop) else {
            signal = .unavailable
            return
        }
        var ends: [CInt] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        signal = .opening
        // Not inherited by the processes the server starts (plugin runners, which also
        // close every descriptor past stderr as they start).
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SignalReader(bound.value))
                }
            }
            .takingOwnershipOfDescriptors(input: ends[0], output: ends[1])
            .whenComplete { result in
                let turns = bound.value
                guard case .opening = turns.signal else { return }
                if case .success(let channel) = result, channel.isActive {
                    turns.signal = .open(channel)
                } else {
                    turns.signal = .unopened
                }
            }
    }
}

/// Reads the loop's pipe to itself: a byte there means connections wait for their turn.
/// It holds the turns (and they the pipe) until the loop closes the pipe.
private final class SignalReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var turns: LoopTurns?
    private var read = false

    init(_ turns: LoopTurns) {
        self.turns = turns
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        read = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard read else { return }
        read = false
        turns?.resumeBatch()
    }

    func channelInactive(context: ChannelHandlerContext) {
        turns?.pipeClosed(context.channel)
        turns = nil
    }
}
