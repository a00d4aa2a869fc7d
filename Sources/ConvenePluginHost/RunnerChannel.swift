import ConveneRPC
import Foundation
import NIOCore

/// One end of a runner connection: a blocking socket, framed. `send` and `enqueue` may be
/// called from any thread; `receive` from one reader thread.
final class RunnerChannel: @unchecked Sendable {
    let descriptor: Int32
    private let writeLock = NSLock()
    /// Frames not written yet: left by `enqueue` until `flush`, or waiting while another
    /// thread writes (which writes them too, in one system call).
    private var pending = ByteBuffer()
    /// The buffer written last, kept for the next writes (one allocation, not one per write).
    private var spare = ByteBuffer()
    private var writing = false
    /// A `flush` is on its way for what `enqueue` left.
    private var flushDue = false
    private var closed = false
    private var input = ByteBuffer()

    init(descriptor: Int32) {
        self.descriptor = descriptor
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
    /// others add meanwhile) unless another thread is writing already.
    private func writePending() -> Bool {
        guard !writing else {
            writeLock.unlock()
            return true
        }
        writing = true
        while true {
            var frame = pending
            pending = spare
            spare = ByteBuffer()
            writeLock.unlock()
            let written = write(frame)
            frame.clear()
            writeLock.lock()
            if frame.capacity <= 1 << 20 { spare = frame }
            if !written { closed = true }
            guard !closed, pending.readableBytes > 0 else {
                writing = false
                pending.clear()
                writeLock.unlock()
                return written
            }
        }
    }

    private func write(_ frame: ByteBuffer) -> Bool {
        frame.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN || errno == EWOULDBLOCK {
                        // Non-blocking once an event loop reads the same socket (`RunnerReader`):
                        // wait until the other end has taken some.
                        var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&ready, 1, -1)
                        continue
                    }
                    return false
                }
                offset += written
            }
            return true
        }
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

    /// The next message; nil at the end of the connection. Throws on a malformed frame.
    func receive() throws -> RunnerMessage? {
        while true {
            if let length = input.getInteger(at: input.readerIndex, as: UInt32.self) {
                guard Int(length) <= RunnerMessage.maxFrame else {
                    throw RunnerProtocolError(description: "a frame of \(length) bytes is over the limit")
                }
                if input.readableBytes >= 4 + Int(length) {
                    input.moveReaderIndex(forwardBy: 4)
                    var body = input.readSlice(length: Int(length))!
                    if input.readerIndex > 1 << 20 { input.discardReadBytes() }
                    return try RunnerMessage(decoding: &body)
                }
            }
            input.reserveCapacity(minimumWritableBytes: 64 << 10)
            let count = input.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 << 10) { buffer in
                var result: Int
                repeat {
                    // Waits in poll, not in recv: a thread blocked in recv on a Unix socket is
                    // woken whenever the other end reads what this end wrote (the kernel's
                    // write-space wake-up reaches reading waiters too), which poll's wait ignores.
                    var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    _ = poll(&ready, 1, -1)
                    result = recv(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
                } while result < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                return max(result, 0)
            }
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
