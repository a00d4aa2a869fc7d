import NIOHTTP2

/// Tells a stream error from a connection error in what swift-nio-http2 reports: it fires
/// both as the same unwrapped error, having written, just before, RST_STREAM for the one
/// (RFC 9113 §5.4.2: only that stream ends) and GOAWAY for the other (§5.4.1: the
/// connection ends). So the last frame it wrote says which. The connection handler forgets
/// the resets it writes itself; only the protocol handler's own stay marked.
///
/// Used on the connection's event loop only (swift-nio-http2 calls it where it writes).
final class HTTP2ResetWatch: NIOHTTP2FrameDelegate, @unchecked Sendable {
    /// The stream of the latest frame written, when that frame was an RST_STREAM.
    private var lastReset: HTTP2StreamID?

    func wroteFrame(_ frame: HTTP2Frame) {
        if case .rstStream = frame.payload { lastReset = frame.streamID } else { lastReset = nil }
    }

    /// The stream swift-nio-http2 reset just before reporting an error (then a stream error);
    /// nil when it wrote anything else last (a GOAWAY: a connection error).
    func takeReset() -> HTTP2StreamID? {
        defer { lastReset = nil }
        return lastReset
    }

    /// The connection handler wrote a frame of its own: not swift-nio-http2's reset.
    func forget() { lastReset = nil }
}
