import NIOCore

/// When an HTTP/2 connection should ping or go away: idle connections close, silent peers
/// are pinged and closed when the ping goes unanswered. A pure value: the handler feeds it
/// the time and performs what it answers. (swift-nio-http2 answers the peer's PINGs and
/// polices floods of them itself.)
struct GRPCConnectionLifecycle {
    let idleTimeout: TimeAmount?
    let keepaliveInterval: TimeAmount?
    let keepaliveTimeout: TimeAmount
    private(set) var lastActivity: NIODeadline
    private(set) var lastRead: NIODeadline
    private(set) var pingSentAt: NIODeadline?

    enum Action: Equatable {
        case none
        case ping
        case close(reason: String)
    }

    init(idleTimeout: TimeAmount?, keepaliveInterval: TimeAmount?, keepaliveTimeout: TimeAmount, now: NIODeadline) {
        self.idleTimeout = idleTimeout
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
        self.lastActivity = now
        self.lastRead = now
    }

    /// How often `tick` should run.
    var tickInterval: TimeAmount? {
        let periods = [idleTimeout, keepaliveInterval, keepaliveInterval == nil ? nil : keepaliveTimeout].compactMap { $0 }
        guard let shortest = periods.min() else { return nil }
        return .nanoseconds(max(shortest.nanoseconds / 4, 10_000_000))
    }

    mutating func read(now: NIODeadline) { lastRead = now }

    /// A call opened or ended.
    mutating func callActivity(now: NIODeadline) { lastActivity = now }

    mutating func pingAcknowledged() { pingSentAt = nil }

    mutating func tick(now: NIODeadline, openCalls: Int) -> Action {
        if let sent = pingSentAt {
            if now - sent >= keepaliveTimeout {
                return .close(reason: "keepalive ping not answered within \(keepaliveTimeout)")
            }
        } else if let keepaliveInterval, now - lastRead >= keepaliveInterval {
            pingSentAt = now
            return .ping
        }
        if let idleTimeout, openCalls == 0, now - lastActivity >= idleTimeout {
            return .close(reason: "no call for \(idleTimeout); closing the idle connection")
        }
        return .none
    }
}
