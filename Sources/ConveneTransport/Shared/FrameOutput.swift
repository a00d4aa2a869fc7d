import ConveneWire
import NIOCore

/// Collects the frames a connection writes during one event-loop turn, so that all the
/// calls answered from one read go out in one write and one flush.
///
/// Small payloads are copied into one buffer; large message payloads are written as
/// their own slices to avoid a copy.
struct FrameOutput {
    private(set) var buffer: ByteBuffer
    private var wroteSlices = false
    private let allocator: ByteBufferAllocator
    static let copyThreshold = 8 * 1024

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
        self.buffer = allocator.buffer(capacity: 0)
    }

    var isEmpty: Bool { buffer.readableBytes == 0 && !wroteSlices }

    mutating func withBuffer<R>(_ body: (inout ByteBuffer) -> R) -> R {
        if buffer.capacity == 0 { buffer = allocator.buffer(capacity: 1024) }
        return body(&buffer)
    }

    /// Appends payload bytes that belong to the frame just begun in `buffer`.
    mutating func appendPayload(_ slice: ByteBuffer, context: ChannelHandlerContext) {
        if slice.readableBytes < Self.copyThreshold {
            withBuffer { $0.writeImmutableBuffer(slice) }
        } else {
            if buffer.readableBytes > 0 {
                context.write(NIOAny(buffer), promise: nil)
                buffer = allocator.buffer(capacity: 0)
            }
            context.write(NIOAny(slice), promise: nil)
            wroteSlices = true
        }
    }

    /// Writes what was collected and flushes; a no-op when nothing was collected.
    mutating func flush(context: ChannelHandlerContext) {
        guard !isEmpty else { return }
        if buffer.readableBytes > 0 {
            context.write(NIOAny(buffer), promise: nil)
            buffer = allocator.buffer(capacity: 0)
        }
        wroteSlices = false
        context.flush()
    }
}
