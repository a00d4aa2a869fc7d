/// Policing of the CANCELs a client sends (PROTOCOL.md §2.6), as swift-nio-http2 polices
/// RST_STREAM against rapid-reset floods: more than `maxCancels` CANCELs of running calls
/// within one `window` is a flood (CALL-then-CANCEL at full speed costs the server a call
/// each, the client nothing), answered with GOAWAY ENHANCE_YOUR_CALM. The count starts
/// again with each window.
///
/// A call the server ends at its deadline, when that deadline was shorter than
/// `shortDeadline`, counts as a CANCEL too: CALLs with a timeout of a microsecond are the
/// same flood without the CANCELs (each starts a handler the server then stops). Both
/// listeners police them so (on gRPC, next to swift-nio-http2's own RST_STREAM limit).
public struct CancelPolicy: Sendable {
    public static let shortDeadlineMicros: UInt64 = 100_000
    public static let shortDeadline = Duration.microseconds(Int64(shortDeadlineMicros))
    public let maxCancels: Int
    public let window: Duration
    private var windowStart: MonotonicInstant?
    private var count = 0

    public init(maxCancels: Int, window: Duration) {
        self.maxCancels = maxCancels
        self.window = window
    }

    /// Records a CANCEL at `now`; false when it is one too many.
    public mutating func received(at now: MonotonicInstant) -> Bool {
        if let start = windowStart, now - start < window {
            count += 1
        } else {
            windowStart = now
            count = 1
        }
        return count <= maxCancels
    }
}
