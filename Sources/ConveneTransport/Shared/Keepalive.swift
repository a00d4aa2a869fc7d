/// The server's keepalive (PROTOCOL.md §2.7): after `interval` without receiving a byte
/// from the peer it sends a PING, and the connection is dead when the PING's ACK (echoing
/// its 8 bytes) has not come within `timeout`. A PING ACK with other bytes is not an answer.
struct Keepalive {
    enum Due: Equatable {
        case nothing
        /// Send a PING carrying these bytes.
        case ping(UInt64)
        /// The outstanding PING went unanswered for `timeout`.
        case timedOut
    }

    /// nil: keepalive is off.
    let interval: Duration?
    let timeout: Duration
    private var lastHeard: MonotonicInstant
    private var outstanding: (opaque: UInt64, sentAt: MonotonicInstant)?
    private var pingsSent: UInt64 = 0

    init(interval: Duration?, timeout: Duration, start: MonotonicInstant) {
        self.interval = interval
        self.timeout = timeout
        self.lastHeard = start
    }

    /// Bytes arrived from the peer at `now`.
    mutating func heard(at now: MonotonicInstant) {
        lastHeard = now
    }

    /// A PING ACK arrived; it answers the outstanding PING only if it echoes its bytes.
    /// Whether `opaque` acknowledges the PING outstanding (which it then clears).
    @discardableResult
    mutating func acknowledged(_ opaque: UInt64) -> Bool {
        guard outstanding?.opaque == opaque else { return false }
        outstanding = nil
        return true
    }

    /// What is due at `now`; a PING that is due counts as sent.
    mutating func check(now: MonotonicInstant) -> Due {
        guard let interval else { return .nothing }
        if let outstanding {
            return now - outstanding.sentAt >= timeout ? .timedOut : .nothing
        }
        guard now - lastHeard >= interval else { return .nothing }
        pingsSent &+= 1
        let opaque = Self.opaqueBase | pingsSent
        outstanding = (opaque, now)
        return .ping(opaque)
    }

    /// When `check` next has something to do.
    var nextDue: MonotonicInstant? {
        guard let interval else { return nil }
        if let outstanding { return outstanding.sentAt + timeout }
        return lastHeard + interval
    }

    /// "KA" in the top bytes, a count below: recognisable in a capture, never repeated.
    static let opaqueBase: UInt64 = 0x4B41 << 48
}
