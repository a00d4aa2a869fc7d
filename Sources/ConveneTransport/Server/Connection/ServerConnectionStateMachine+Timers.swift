import ConveneRPC
import ConveneWire

/// Time: the handshake, frame and idle timeouts, keepalive, call deadlines, and the one
/// wake-up the machine asks of its handler (the earliest thing due).
extension ServerConnectionStateMachine {
    /// After each read: bytes arrived (keepalive), and whether a frame is left incomplete
    /// and since when (the frame timeout counts from the first byte of the pending frame).
    mutating func readParsed(_ remainder: FrameReader.Remainder, now: Instant) {
        guard phase != .closed else { return }
        keepalive.heard(at: now)
        if remainder.pendingBytes == 0 {
            incompleteFrameSince = nil
        } else if remainder.madeProgress || incompleteFrameSince == nil {
            incompleteFrameSince = now
        }
    }

    /// The handler stopped reading (the client does not read its responses): a frame it
    /// has not parsed is not the client's dribbling.
    mutating func readingPaused() {
        incompleteFrameSince = nil
    }

    /// The read batch is over: deadlines of the calls it opened that are still open are
    /// armed (a call answered within its batch never needs one).
    mutating func readComplete() {
        guard phase != .closed else { return deadlinesToArm.removeAll(keepingCapacity: true) }
        for id in deadlinesToArm {
            if let deadline = stream(id, { $0.deadline }) ?? nil { deadlines.insert(deadline, streamID: id) }
        }
        deadlinesToArm.removeAll(keepingCapacity: true)
        requestWakeUp()
    }

    /// The wake-up asked for came (or any time): applies whatever is due at `now`.
    mutating func tick(now: Instant) {
        requestedWakeUp = nil
        guard phase != .closed else { return }
        switch phase {
        case .awaitingPreface, .awaitingSettings:
            if now >= handshakeDeadline { return fault(.handshakeTimeout(configuration.handshakeTimeout), now: now) }
        case .active, .draining:
            if let idle = configuration.idleTimeout, streams.isEmpty, now - lastActivity >= idle {
                return fault(.idle(idle), now: now)
            }
            switch keepalive.check(now: now) {
            case .nothing: break
            case .ping(let opaque): write(.ping(opaque, ack: false))
            case .timedOut: return fault(.keepaliveTimeout(keepalive.timeout), now: now)
            }
        case .closed:
            return
        }
        if let since = incompleteFrameSince, now - since >= configuration.frameTimeout {
            return fault(.frameTimeout(configuration.frameTimeout), now: now)
        }
        while let (deadline, id) = deadlines.earliest, deadline <= now {
            deadlines.removeEarliest()
            guard let timeout = stream(id, { $0.timeoutMicros }) else { continue }
            // A call ended at a short deadline cost the server what a CANCELled one does:
            // CALLs with tiny timeouts are a rapid-reset flood without the CANCELs.
            if timeout < CancelPolicy.shortDeadlineMicros, !cancelPolicy.received(at: now) {
                return fault(.deadlineFlood(maxCancels: cancelPolicy.maxCancels, window: cancelPolicy.window), now: now)
            }
            fault(.deadlineExceeded(id, timeoutMicros: timeout), now: now)
        }
        if let sweep = nextSweep, now >= sweep { sweepStreams(now: now) }
        requestWakeUp()
    }

    /// The earliest instant something is due, if anything is.
    mutating func nextWakeUp() -> Instant? {
        var next: Instant?
        func consider(_ instant: Instant?) {
            if let instant, next.map({ instant < $0 }) ?? true { next = instant }
        }
        switch phase {
        case .awaitingPreface, .awaitingSettings:
            consider(handshakeDeadline)
        case .active, .draining:
            consider(keepalive.nextDue)
            if streams.isEmpty, let idle = configuration.idleTimeout { consider(lastActivity + idle) }
            if !streams.isEmpty { consider(nextSweep) }
        case .closed:
            return nil
        }
        if let since = incompleteFrameSince { consider(since + configuration.frameTimeout) }
        dropEndedDeadlines()
        consider(deadlines.earliest?.deadline)
        return next
    }

    /// Asks the handler for a wake-up when the earliest thing due is earlier than the
    /// wake-up already asked for (a later one is found when that one comes).
    mutating func requestWakeUp() {
        guard let next = nextWakeUp() else { return }
        if let requested = requestedWakeUp, requested <= next { return }
        requestedWakeUp = next
        actions.append(.scheduleWakeUp(at: next))
    }

    /// Deadlines of calls that ended leave the top of the queue (and the queue, when many).
    private mutating func dropEndedDeadlines() {
        while let (_, id) = deadlines.earliest, streams.index(forKey: id) == nil { deadlines.removeEarliest() }
        guard deadlines.needsSweep(liveCount: streams.count) else { return }
        let open = streams
        deadlines.sweep { open.index(forKey: $0) != nil }
    }
}
