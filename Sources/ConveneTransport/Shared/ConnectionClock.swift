import NIOCore

/// The time a connection handler reads and hands to its state machine.
///
/// `continuous` in a server; `following(_:)` an event loop's own clock, for tests and
/// fuzzers on an `EmbeddedEventLoop`, whose time moves only with `advanceTime`: the
/// handler's timers and the times it reads then agree exactly.
public struct ConnectionClock: Sendable {
    let now: @Sendable () -> MonotonicInstant

    public static let continuous = ConnectionClock { .now }

    public static func following(_ eventLoop: any EventLoop) -> ConnectionClock {
        ConnectionClock { MonotonicInstant(nanoseconds: Int64(truncatingIfNeeded: eventLoop.now.uptimeNanoseconds)) }
    }
}
