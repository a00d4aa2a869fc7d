import ConveneRPC
import ConveneTransport
import NIOHTTP2

/// Frames that cost the server work and carry next to none, which swift-nio-http2 does not
/// police: WINDOW_UPDATEs beyond what the DATA written calls for, and DATA slivers inside a
/// message (PROTOCOL.md §4 and SECURITY.md: the native listener's rules, on HTTP/2).
extension GRPCConnectionHandler {
    /// A DATA frame smaller than this, inside a message and completing none, is a sliver.
    static var sliverBytes: Int { 1024 }

    /// Counts a WINDOW_UPDATE (on any stream); false once it is one too many (the connection
    /// is going away).
    func receivedWindowUpdate() -> Bool {
        windowUpdatesReceived += 1
        let allowed = configuration.windowUpdateAllowance + configuration.windowUpdatesPerDataFrame * dataFramesWritten
        guard windowUpdatesReceived > allowed else { return true }
        observer?.refused(.grpc, reason: .frameFlood)
        goAway(.enhanceYourCalm, "too many WINDOW_UPDATEs: \(windowUpdatesReceived), where the \(dataFramesWritten) DATA frames the server has sent call for \(allowed) at most", close: true)
        return false
    }

    /// Counts a DATA sliver; false once it is one too many within the window.
    func receivedSliver() -> Bool {
        guard !slivers.received(at: .now) else { return true }
        observer?.refused(.grpc, reason: .frameFlood)
        goAway(.enhanceYourCalm, "too many DATA frames of under \(Self.sliverBytes) bytes inside a message: more than \(slivers.maxCancels) within \(slivers.window)", close: true)
        return false
    }
}
