import ConveneRPC
import NIOCore

/// Counts the bytes a connection reads and writes, nearest the socket (before TLS), and tells
/// the observer once per read batch and once per flush (not per frame). The gRPC listener puts
/// it first in each connection's pipeline; the native listener only ahead of TLS (without TLS,
/// its connection handler counts the same bytes itself, saving a handler on the hot path).
public final class ByteCounter: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundIn = ByteBuffer

    let transport: TransportKind
    let observer: any ConnectionObserver
    private var read = 0
    private var written = 0

    public init(transport: TransportKind, observer: any ConnectionObserver) {
        self.transport = transport
        self.observer = observer
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        read += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        report()
        context.fireChannelReadComplete()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        written += unwrapOutboundIn(data).readableBytes
        context.write(data, promise: promise)
    }

    public func flush(context: ChannelHandlerContext) {
        report()
        context.flush()
    }

    private func report() {
        guard read > 0 || written > 0 else { return }
        observer.bytes(transport, read: read, written: written)
        (read, written) = (0, 0)
    }
}
