import ConveneRPC
import NIOCore

/// A connection handler that can flush what it has collected (both handlers are).
protocol OutboundFlushing: AnyObject {
    func flushCollectedOutput()
}

/// When a connection handler writes, shared by both sides: what is produced while handling
/// a read goes out in one write and one flush at the end of the read; what is produced
/// outside a read (by handler tasks, timers) is flushed once per event-loop turn; and a
/// writer waiting for its message to go out is resumed only while the channel is
/// writable, so a peer that does not read stops its senders.
struct OutboundSchedule {
    var inReadBatch = false
    private var flushScheduled = false
    private var parked: [SendCompletion] = []

    /// Whether a flush is pending on the event loop (closing waits for it).
    var isFlushPending: Bool { flushScheduled }

    /// Resumes a writer whose message went out: now, or once the channel is writable again.
    mutating func complete(_ completion: SendCompletion, writable: Bool) {
        if writable { completion.resume() } else { parked.append(completion) }
    }

    /// Resumes the parked writers: with success when the channel became writable, with
    /// `error` when it closed.
    mutating func resumeParked(failing error: RPCError? = nil) {
        guard !parked.isEmpty else { return }
        let waiting = parked
        parked = []
        for completion in waiting {
            if let error { completion.resume(throwing: error) } else { completion.resume() }
        }
    }

    /// Arranges one flush on `eventLoop` for output produced outside a read; nothing when
    /// inside a read (its end flushes) or when a flush is already arranged.
    mutating func scheduleFlush(_ handler: some OutboundFlushing, on eventLoop: any EventLoop) {
        guard !inReadBatch, !flushScheduled else { return }
        flushScheduled = true
        let bound = NIOLoopBound(handler, eventLoop: eventLoop)
        eventLoop.execute { bound.value.flushCollectedOutput() }
    }

    /// The arranged flush is running.
    mutating func flushStarted() {
        flushScheduled = false
    }
}
