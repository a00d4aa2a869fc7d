import ConveneRPC
import ConveneWire
import NIOCore

/// The `ResponseWriter` an asynchronous handler gets: hops each write to the
/// connection's event loop and suspends until flow control lets it out.
struct ServerResponseWriter: ResponseWriter {
    let handler: NIOLoopBound<ServerConnectionHandler>
    let streamID: UInt32
    let responseEncoding: MessageEncoding
    let allocator: ByteBufferAllocator

    var eventLoop: any EventLoop { handler.eventLoop }

    func sendHeaders(_ metadata: Metadata) async throws {
        try await waitForSend { completion in
            eventLoop.execute {
                handler.value.sendHeaders(streamID: streamID, metadata, completion: completion)
            }
        }
    }

    func send(_ message: ByteBuffer, compress: Bool) async throws {
        // A cancelled call sends nothing more (and does not compress for nothing).
        try Task.checkCancellation()
        // Compress on the task's thread, not the event loop.
        let encoding: MessageEncoding = compress ? responseEncoding : .identity
        let bytes = encoding == .deflate ? MessageCompression.deflate(message, allocator: allocator) : message
        try await waitForSend { completion in
            eventLoop.execute {
                handler.value.enqueue(streamID: streamID, bytes, encoding: encoding,
                                      uncompressedSize: message.readableBytes, completion: completion)
            }
        }
    }

    func setTrailers(_ metadata: Metadata) {
        eventLoop.execute { handler.value.setTrailers(streamID: streamID, metadata) }
    }
}
