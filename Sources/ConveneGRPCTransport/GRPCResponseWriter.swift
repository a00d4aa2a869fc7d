import ConveneRPC
import NIOCore
import NIOHTTP2

/// The `ResponseWriter` an asynchronous handler gets on the gRPC listener: compresses on the
/// task's thread, hops to the connection's event loop to write, and suspends while the
/// stream has too many bytes waiting for the socket.
struct GRPCResponseWriter: ResponseWriter {
    let handler: NIOLoopBound<GRPCConnectionHandler>
    let streamID: HTTP2StreamID
    let head: GRPCRequestHead
    let allocator: ByteBufferAllocator

    func sendHeaders(_ metadata: Metadata) async throws {
        try await handler.eventLoop.submit { [handler, streamID] in
            try handler.value.sendHeaders(streamID, metadata)
        }.get()
    }

    func send(_ message: ByteBuffer, compress: Bool) async throws {
        try await send(message, compression: compress ? .whenNegotiated : .never)
    }

    func send(_ message: ByteBuffer, compression: ResponseCompression) async throws {
        let compressed = head.responseEncoding(for: compression).map { $0.compress(message, allocator: allocator) }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            handler.eventLoop.execute { [handler, streamID] in
                handler.value.send(streamID, compressed ?? message, compressed: compressed != nil, completion: continuation)
            }
        }
    }

    func setTrailers(_ metadata: Metadata) {
        handler.eventLoop.execute { [handler, streamID] in handler.value.setTrailers(streamID, metadata) }
    }
}
