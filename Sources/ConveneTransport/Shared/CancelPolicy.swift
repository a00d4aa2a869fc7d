/// Policing of the CANCELs a client sends (PROTOCOL.md §2.6), as swift-nio-http2 polices
/// RST_STREAM against rapid-reset floods: more than `maxCancels` CANCELs of running calls
/// within one `window` is a flood (CALL-then-CANCEL at full speed costs the server a call
/// each, the client nothing), answered with GOAWAY ENHANCE_YOUR_CALM. The count starts
/// again with each window.
struct CancelPolicy {
    let maxCancels: Int
    let window: Duration
    private var windowStart: MonotonicInstant?
    private var count = 0

    init(maxCancels: Int, window: Duration) {
        self.maxCancels = maxCancels
        self.window = window
    }

    /// Records a CANCEL at `now`; false when it is one too many.
    mutating func received(at now: MonotonicInstant) -> Bool {
        if let start = windowStart, now - start < window {
            count += 1
        } else {
            windowStart = now
            count = 1
        }
        return count <= maxCancels
    }
}
