import ConveneRPC
import NIOCore

/// A moment on the monotonic clock, in nanoseconds of uptime (the clock NIO's timers use):
/// the time the connection state machines, their policies and their deadlines work in.
///
/// Not `ContinuousClock.Instant`: the standard library's type is resilient, so every value
/// holding one (each call's `ServerStream`, the machine's actions) was copied and destroyed
/// through run-time value witnesses on the hot path. This is one integer, and its arithmetic
/// saturates instead of trapping (a deadline can come from a peer).
public struct MonotonicInstant: Comparable, Hashable, Sendable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    public static var now: MonotonicInstant {
        MonotonicInstant(nanoseconds: Int64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds))
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    public func advanced(by duration: Duration) -> MonotonicInstant {
        let delta = duration.saturatingNanoseconds
        let (sum, overflow) = nanoseconds.addingReportingOverflow(delta)
        return MonotonicInstant(nanoseconds: overflow ? (delta < 0 ? .min : .max) : sum)
    }

    /// Integer arithmetic only (a `Duration` is 128-bit attoseconds): for each call's deadline.
    public func advanced(byMicroseconds micros: UInt64) -> MonotonicInstant {
        let (nanos, overflow) = Int64(clamping: micros).multipliedReportingOverflow(by: 1_000)
        guard !overflow else { return MonotonicInstant(nanoseconds: .max) }
        let (sum, sumOverflow) = nanoseconds.addingReportingOverflow(nanos)
        return MonotonicInstant(nanoseconds: sumOverflow ? .max : sum)
    }

    public static func + (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        lhs.advanced(by: rhs)
    }

    /// The time from `rhs` to `lhs`.
    public static func - (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Duration {
        let (difference, overflow) = lhs.nanoseconds.subtractingReportingOverflow(rhs.nanoseconds)
        return .nanoseconds(overflow ? (lhs < rhs ? Int64.min : .max) : difference)
    }

    /// The same moment on the standard library's `ContinuousClock`, which handlers' call
    /// contexts use (`Deadline`): read only for calls with a deadline, when a context is made.
    public var continuousInstant: ContinuousClock.Instant {
        ContinuousClock.now.advanced(by: self - .now)
    }

    /// The event loop's deadline for this moment (the same clock).
    public var deadline: NIODeadline {
        .uptimeNanoseconds(UInt64(max(0, nanoseconds)))
    }
}
