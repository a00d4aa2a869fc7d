import ConveneTransport
import NIOCore

/// Frames swift-nio-http2 takes without a word to the handlers after it: WINDOW_UPDATEs on
/// streams it has closed, PRIORITY, and frame types it does not know (which HTTP/2 tells it
/// to ignore). Each costs the server work and needs no answer, so a client can send them by
/// the million; this handler, ahead of swift-nio-http2, reads the frame headers in the bytes
/// as they come and reports a flood (`GRPCConnectionEvent.flood`): WINDOW_UPDATEs past what
/// the DATA written calls for (`HTTP2FrameTally`), and PRIORITY or unknown frames past
/// `maxIgnoredFrames` within `ignoredFrameWindow`.
final class HTTP2FrameScan: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let tally: HTTP2FrameTally
    private let configuration: GRPCServerConfiguration
    private var ignored: CancelPolicy
    /// The client preface's bytes still to pass.
    private var prefaceLeft = 24
    /// The frame header read so far, and the payload bytes still to pass.
    private var header: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
    private var headerRead = 0
    private var payloadLeft = 0
    private var reported = false

    init(tally: HTTP2FrameTally, configuration: GRPCServerConfiguration) {
        self.tally = tally
        self.configuration = configuration
        ignored = CancelPolicy(maxCancels: configuration.maxIgnoredFrames, window: configuration.ignoredFrameWindow)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let flood = reported ? nil : scan(bytes)
        context.fireChannelRead(data)
        if let flood {
            reported = true
            context.fireUserInboundEventTriggered(GRPCConnectionEvent.flood(flood))
        }
    }

    /// Reads the frame headers `bytes` holds or completes; why the client floods, if it does.
    private func scan(_ bytes: ByteBuffer) -> String? {
        bytes.withUnsafeReadableBytes { raw -> String? in
            var index = 0
            while index < raw.count {
                if prefaceLeft > 0 || payloadLeft > 0 {
                    let step = min(prefaceLeft > 0 ? prefaceLeft : payloadLeft, raw.count - index)
                    if prefaceLeft > 0 { prefaceLeft -= step } else { payloadLeft -= step }
                    index += step
                    continue
                }
                let byte = raw[index]
                index += 1
                switch headerRead {
                case 0: header.0 = byte
                case 1: header.1 = byte
                case 2: header.2 = byte
                case 3: header.3 = byte
                default: break  // flags and stream id: not needed
                }
                headerRead += 1
                guard headerRead == 9 else { continue }
                headerRead = 0
                payloadLeft = Int(header.0) << 16 | Int(header.1) << 8 | Int(header.2)
                if let flood = frame(type: header.3) { return flood }
            }
            return nil
        }
    }

    private func frame(type: UInt8) -> String? {
        switch type {
        case 0x8:
            tally.windowUpdates += 1
            let allowed = configuration.windowUpdateAllowance
                + configuration.windowUpdatesPerDataFrame * (tally.dataFramesWritten + tally.streamsOpened)
            guard tally.windowUpdates > allowed else { return nil }
            return "too many WINDOW_UPDATEs: \(tally.windowUpdates), where the \(tally.dataFramesWritten) DATA frames the server has sent and the \(tally.streamsOpened) calls opened call for \(allowed) at most"
        case 0x2, 0xA...:
            guard !ignored.received(at: .now) else { return nil }
            return "too many frames that change nothing: more than \(ignored.maxCancels) PRIORITY frames or frames of unknown types within \(ignored.window)"
        default:
            return nil
        }
    }
}

/// What a gRPC connection's frame scan and its handler count together: the WINDOW_UPDATEs
/// the client sent (`HTTP2FrameScan`) against the DATA frames the handler wrote. Confined to
/// the connection's event loop.
final class HTTP2FrameTally {
    var windowUpdates = 0
    var dataFramesWritten = 0
    /// Streams the client opened: gRPC's C core announces credit for each new one before
    /// any DATA comes (a thousand concurrent calls, a thousand WINDOW_UPDATEs).
    var streamsOpened = 0
}
