import ConveneRPC
import ConveneWire
import NIOCore

/// What a connection may hold (PROTOCOL.md §4 and §5): the connection window both ways, its
/// part of the server's memory budget, and outbound backpressure.
///
/// The budget counts the request bytes the connection window counts (received, not yet
/// taken by a handler), the metadata of open calls, response bytes waiting for credit and
/// response bytes in the socket's queue. Reading stops while the client leaves more than
/// `maxOutboundBuffered` response bytes unread; synchronous calls wait to run while more than
/// that waits for its flow-control credit, and an asynchronous handler's message is refused
/// when the budget is under pressure and the connection holds much.
extension ServerConnectionStateMachine {
    /// Request bytes left the connection window (taken whole, or dropped): the budget gets
    /// them back, and the client its credit on stream 0 when it is due.
    mutating func releaseInbound(_ bytes: Int) {
        guard bytes > 0 else { return }
        account.release(bytes)
        if let credit = connectionReceive.release(bytes), phase != .closed {
            write(.windowUpdate(streamID: 0, increment: credit))
        }
    }

    /// Response bytes moved from the calls' queues into the frames collected for the next
    /// write: held until that write takes them (`takeOutput`), then the socket's queue counts
    /// them (`channelPendingChanged`). Uncounted, every call of a connection could have a
    /// message admitted in one turn of the loop (a client granting huge windows took the
    /// budget's count to thirteen times its limit, and every new call was refused).
    mutating func noteCollected(_ bytes: Int) {
        guard bytes > 0 else { return }
        collectedCharged += bytes
        account.charge(bytes)
    }

    /// Response bytes waiting for credit changed by `delta`.
    mutating func noteQueued(_ delta: Int) {
        guard delta != 0 else { return }
        outboundQueued += delta
        if delta > 0 {
            account.charge(delta)
        } else {
            account.release(-delta)
            if !deferredSynchronous.isEmpty { runDeferredIfRoom() }
        }
    }

    /// Runs the oldest waiting synchronous call, if the queued responses leave room. Called
    /// again when it has answered, so they run one by one while room lasts.
    mutating func runDeferredIfRoom() {
        while outboundQueued <= configuration.maxOutboundBuffered, let id = deferredSynchronous.popFirst() {
            guard var stream = streams.removeValue(forKey: id) else { continue }
            runSynchronous(&stream)
            streams[id] = consume stream
            return
        }
    }

    /// Credit for the connection window: the calls waiting for room start, oldest first.
    mutating func receiveConnectionWindowUpdate(_ increment: UInt32, now: Instant) {
        guard connectionSend.grant(increment) else { return fault(.connectionWindowOverflow, now: now) }
        resumeBlocked(now: now)
    }

    /// Gives the calls waiting for room in the connection window their turn, oldest first,
    /// until one still does not fit.
    mutating func resumeBlocked(now: Instant) {
        while let id = connectionSend.nextBlocked() {
            guard let stream = streams.removeValue(forKey: id) else { continue }
            if !sendQueued(consume stream, now: now, retrying: true) { break }
        }
    }

    /// The handler read how many bytes wait in the socket's queue.
    mutating func channelPendingChanged(_ bytes: Int) {
        account.update(&channelPending, to: bytes)
    }

    /// Whether the client leaves so many response bytes unread that the server must stop
    /// reading from it (what this read batch wrote so far included).
    var shouldPauseReading: Bool {
        channelPending + output.byteCount > configuration.maxOutboundBuffered
    }

    /// How often open calls are checked for a message left incomplete and for idleness (a
    /// sixth of the shorter limit, at least 1 s); nil when neither limit is set.
    var sweepInterval: Duration? {
        // No array of the limits: this runs as a connection's first call opens.
        let shorter: Duration
        switch (configuration.messageTimeout, configuration.callIdleTimeout) {
        case (let message?, let idle?): shorter = min(message, idle)
        case (let limit?, nil), (nil, let limit?): shorter = limit
        case (nil, nil): return nil
        }
        return max(.seconds(1), shorter / 6)
    }

    /// Ends the calls whose message has been incomplete, or which have been idle, too long.
    mutating func sweepStreams(now: Instant) {
        var due: [ConnectionFault] = []
        for (id, stream) in streams {
            if let limit = configuration.messageTimeout, let since = stream.incompleteSince, now - since >= limit {
                due.append(.messageIncomplete(id, bytes: stream.inbound.bufferedBytes, limit: limit))
            } else if let idle = configuration.callIdleTimeout, stream.state == .open, now - stream.lastProgress >= idle {
                due.append(.callIdle(id, idle))
            }
        }
        for fault in due.sorted(by: { ($0.streamID ?? 0) < ($1.streamID ?? 0) }) { self.fault(fault, now: now) }
        nextSweep = streams.isEmpty ? nil : sweepInterval.map { now + $0 }
    }
}
