import ConveneRPC
import Foundation
import NIOCore

/// One end of a runner connection, framed. `send` and `enqueue` may be called from any
/// thread; `receive` from one reader thread.
///
/// The server's end is non-blocking (an event loop reads it, `RunnerReader`), and a write
/// never waits there: what the runner has not taken yet waits in `pending`, written by a
/// drain thread as the runner reads. A runner that leaves it unread for `stallLimit`, or lets
/// more than `maxUnread` bytes pile up, is reported through `onStall` (and the connection
/// closed): a plugin that stops reading cannot hold an event loop, nor grow the server.
final class RunnerChannel: @unchecked Sendable {
    /// How long the runner may take none of what the server has for it.
    let stallLimit: Duration
    /// The most the server holds for a runner that does not keep up: a largest frame and more.
    let maxUnread: Int

    let descriptor: Int32
    /// Told (once, from the thread that saw it) why the other end is given up on.
    var onStall: (@Sendable (String) -> Void)?
    private var stalled = false
    private let writeLock = NSLock()
    /// Frames not written yet: left by `enqueue` until `flush`, or waiting while another
    /// thread writes (which writes them too, in one system call).
    private var pending = ByteBuffer()
    /// The buffer written last, kept for the next writes (one allocation, not one per write).
    private var spare = ByteBuffer()
    private var writing = false
    /// A `flush` is on its way for what `enqueue` left.
    private var flushDue = false
    /// `enqueue` found more than `maxUnread` waiting: the next write gives up.
    private var stallDue = false
    private var closed = false
    private var input = ByteBuffer()

    init(descriptor: Int32, stallLimit: Duration = .seconds(5), maxUnread: Int = RunnerMessage.maxFrame + (32 << 20)) {
        self.descriptor = descriptor
        self.stallLimit = stallLimit
        self.maxUnread = maxUnread
        input.reserveCapacity(64 << 10)
    }

    /// Writes a message (or leaves it to the thread writing now, with its own); false when
    /// the other end is gone.
    @discardableResult
    func send(_ message: RunnerMessage) -> Bool {
        writeLock.lock()
        guard !closed else {
            writeLock.unlock()
            return false
        }
        message.write(to: &pending)
        if writing, pending.readableBytes > maxUnread { stallDue = true }
        return writePending()
    }

    /// Adds a message to the next write without writing it: a network event loop enqueues
    /// the calls of one read batch and flushes them once, at the end of its turn, so that a
    /// batch of calls costs the server one system call and the runner one wake-up. True when
    /// the caller must `flush` (nothing else will write the message).
    func enqueue(_ message: RunnerMessage) -> Bool {
        writeLock.withLock {
            guard !closed else { return false }
            message.write(to: &pending)
            if writing, pending.readableBytes > maxUnread { stallDue = true }
            guard !writing, !flushDue else { return false }  // the write under way, or the flush due, takes it
            flushDue = true
            return true
        }
    }

    /// Writes what `enqueue` left.
    func flush() {
        writeLock.lock()
        flushDue = false
        guard !closed, pending.readableBytes > 0 else {
            writeLock.unlock()
            return
        }
        _ = writePending()
    }

    /// Called with the write lock held, released on return: writes `pending` (and whatever
    /// others add meanwhile) unless another thread is writing already. When the other end
    /// takes no more for now, the rest is left to a drain thread.
    private func writePending() -> Bool {
        guard !writing else {
            let overflow = stallDue
            writeLock.unlock()
            return overflow ? giveUp("let more than \(maxUnread) bytes of the server's messages pile up unread") : true
        }
        writing = true
        while true {
            var frame = pending
            pending = spare
            spare = ByteBuffer()
            writeLock.unlock()
            let outcome = write(&frame)
            writeLock.lock()
            switch outcome {
            case .failed:
                closed = true
            case .full:
                // Ahead of what was added meanwhile; `writing` stays set for the drain thread.
                frame.writeBuffer(&pending)
                pending = frame
                writeLock.unlock()
                startDrain()
                return true
            case .written:
                frame.clear()
                if frame.capacity <= 1 << 20 { spare = frame }
            }
            guard !closed, pending.readableBytes > 0 else {
                writing = false
                pending.clear()
                writeLock.unlock()
                return outcome == .written
            }
        }
    }

    private enum WriteOutcome { case written, full, failed }

    /// Writes `frame` (moving its reader index past what was written) until it is all
    /// written, the socket takes no more for now (non-blocking), or the connection fails.
    private func write(_ frame: inout ByteBuffer) -> WriteOutcome {
        while frame.readableBytes > 0 {
            let written = frame.withUnsafeReadableBytes { bytes in
                Glibc.send(descriptor, bytes.baseAddress!, bytes.count, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return .full }
                return .failed
            }
            frame.moveReaderIndex(forwardBy: written)
        }
        return .written
    }

    /// Writes what the other end did not take yet, as it takes it, on a thread of its own.
    private func startDrain() {
        let thread = Thread { [self] in drain() }
        thread.name = "plugin connection drain"
        thread.start()
    }

    private func drain() {
        var progress = ContinuousClock.now
        while true {
            let waited = ContinuousClock.now - progress
            guard waited < stallLimit else {
                writeLock.withLock { writing = false }
                giveUp("took none of the server's messages for \(stallLimit)")
                return
            }
            var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let left = stallLimit - waited
            _ = poll(&ready, 1, Int32(clamping: min(left.saturatingNanoseconds / 1_000_000 + 1, 1_000)))
            writeLock.lock()
            if stallDue || pending.readableBytes > maxUnread {
                writing = false
                writeLock.unlock()
                giveUp("let more than \(maxUnread) bytes of the server's messages pile up unread")
                return
            }
            guard !closed, pending.readableBytes > 0 else {
                writing = false
                pending.clear()
                writeLock.unlock()
                return
            }
            var frame = pending
            pending = ByteBuffer()
            writeLock.unlock()
            let before = frame.readableBytes
            let outcome = write(&frame)
            if frame.readableBytes < before { progress = .now }
            writeLock.lock()
            frame.writeBuffer(&pending)
            pending = frame
            if outcome == .failed { closed = true }
            guard outcome == .full, !closed else {
                if outcome == .written, pending.readableBytes > 0 {
                    writeLock.unlock()
                    continue  // what was added meanwhile
                }
                writing = false
                pending.clear()
                writeLock.unlock()
                return
            }
            writeLock.unlock()
        }
    }

    /// The other end does not keep up: it is reported (once) and the connection closed. False.
    @discardableResult
    private func giveUp(_ why: String) -> Bool {
        let report = writeLock.withLock { () -> (@Sendable (String) -> Void)? in
            defer { stalled = true }
            return stalled ? nil : onStall
        }
        report?(why)
        close()
        return false
    }

    /// What `receive` read beyond the messages it returned, taken out (for a reader that
    /// takes over the connection).
    func takeBuffered() -> ByteBuffer {
        defer { input = ByteBuffer() }
        return input.readableBytes > 0 ? input : ByteBuffer()
    }

    /// Whether a whole frame is read already (`receive` then returns without waiting). Reader thread only.
    var hasBufferedFrame: Bool {
        guard let length = input.getInteger(at: input.readerIndex, as: UInt32.self) else { return false }
        return input.readableBytes - 4 >= Int(length)
    }

    /// The next message; nil at the end of the connection. Throws on a malformed frame, and
    /// when `deadline` (if given) passes first.
    func receive(until deadline: ContinuousClock.Instant? = nil) throws -> RunnerMessage? {
        while true {
            if let message = try RunnerMessage.take(from: &input) {
                if input.readerIndex > 1 << 20 { input.discardReadBytes() }
                return message
            }
            input.reserveCapacity(minimumWritableBytes: 64 << 10)
            var timedOut = false
            let count = input.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 << 10) { buffer in
                // What is there already is taken without waiting (under load, most reads: a
                // poll first would be a system call for nothing).
                var result = recv(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
                while result < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
                    // Waits in poll, not in recv: a thread blocked in recv on a Unix socket is
                    // woken whenever the other end reads what this end wrote (the kernel's
                    // write-space wake-up reaches reading waiters too), which poll's wait ignores.
                    var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    var timeout: Int32 = -1
                    if let deadline {
                        let left = deadline - .now
                        guard left > .zero else {
                            timedOut = true
                            return 0
                        }
                        timeout = Int32(clamping: left.saturatingNanoseconds / 1_000_000 + 1)
                    }
                    _ = poll(&ready, 1, timeout)
                    result = recv(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
                }
                return max(result, 0)
            }
            if timedOut { throw RunnerProtocolError(description: "no message came in time") }
            if count == 0 { return nil }
        }
    }

    /// Shuts the socket down both ways (a reader blocked in `receive` then sees the end).
    func close() {
        writeLock.withLock {
            closed = true
            shutdown(descriptor, Int32(SHUT_RDWR))
        }
    }

    deinit { Glibc.close(descriptor) }
}
