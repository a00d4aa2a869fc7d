import ConveneRPC
import ConveneTransport
import NIOHTTP2

/// DATA slivers inside a message, which swift-nio-http2 does not police (the native
/// listener's rule, on HTTP/2; WINDOW_UPDATEs and ignored frames: `HTTP2FrameScan`).
extension GRPCConnectionHandler {
    /// A DATA frame smaller than this, inside a message and completing none, is a sliver.
    static var sliverBytes: Int { 1024 }

    /// Counts a DATA sliver; false once it is one too many within the window.
    func receivedSliver() -> Bool {
        guard !slivers.received(at: .now) else { return true }
        observer?.refused(.grpc, reason: .frameFlood)
        goAway(.enhanceYourCalm, "too many DATA frames of under \(Self.sliverBytes) bytes inside a message: more than \(slivers.maxCancels) within \(slivers.window)", close: true)
        return false
    }
}
