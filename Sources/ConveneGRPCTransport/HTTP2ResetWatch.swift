import NIOHTTP2

/// Tells a stream error from a connection error in what swift-nio-http2 reports: it fires
/// both as the same unwrapped error, having written, just before, RST_STREAM for the one
/// (RFC 9113 §5.4.2: only that stream ends) and GOAWAY for the other (§5.4.1: the
/// connection ends). So the last frame it wrote of its own says which.
///
/// The connection handler's own frames are not counted (`writingOwn`, around each write:
/// writing one may close a stream, whose event makes the handler write again, so a count),
/// and a frame passed up to the handler clears what was seen (swift-nio-http2 reports a
/// stream error before it passes on anything more). Used on the connection's event loop only.
final class HTTP2ResetWatch: NIOHTTP2FrameDelegate, @unchecked Sendable {
    /// The stream of the latest frame swift-nio-http2 wrote of its own, when an RST_STREAM.
    private var lastReset: HTTP2StreamID?
    /// How many of the handler's own writes are under way.
    private var ownWrites = 0

    func wroteFrame(_ frame: HTTP2Frame) {
        guard ownWrites == 0 else { return }
        if case .rstStream = frame.payload { lastReset = frame.streamID } else { lastReset = nil }
    }

    /// Runs `write`, one of the handler's own.
    func writingOwn(_ write: () -> Void) {
        ownWrites += 1
        defer { ownWrites -= 1 }
        write()
    }

    /// The stream swift-nio-http2 reset just before reporting an error (then a stream error);
    /// nil when it wrote anything else last (a GOAWAY: a connection error), or nothing since
    /// the last frame it passed up.
    func takeReset() -> HTTP2StreamID? {
        defer { lastReset = nil }
        return lastReset
    }

    /// A frame was passed up to the handler: what was written before is no longer news.
    func forget() { lastReset = nil }
}
