import ConveneWire
import NIOCore

/// Collects the frames a connection writes during one event-loop turn, so that all the
/// calls answered from one read go out in one write and one flush.
///
/// Small payloads are copied into one buffer; large message payloads are kept as their
/// own slices to avoid a copy. Nothing here touches the channel: `take()` hands the
/// collected buffers to the handler, which writes them (so a write that closes the
/// channel cannot re-enter this struct).
struct FrameOutput {
    private(set) var buffer: ByteBuffer
    private var sealed: [ByteBuffer] = []
    private var sealedBytes = 0
    private let allocator: ByteBufferAllocator
    static let copyThreshold = 8 * 1024

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
        self.buffer = allocator.buffer(capacity: 0)
    }

    var isEmpty: Bool { buffer.readableBytes == 0 && sealed.isEmpty }

    /// Bytes collected and not taken yet.
    var byteCount: Int { buffer.readableBytes + sealedBytes }

    @discardableResult
    mutating func withBuffer<R>(_ body: (inout ByteBuffer) -> R) -> R {
        if buffer.capacity == 0 { buffer = allocator.buffer(capacity: 1024) }
        return body(&buffer)
    }

    /// Writes a DATA frame holding the whole of a small message (header, prefix and
    /// payload: `MessagePrefix.size` + payload bytes) with one access to the buffer, where
    /// header, prefix and payload written apart cost three.
    mutating func appendWholeMessageFrame(streamID: UInt32, flags: FrameFlags, encoding: MessageEncoding,
                                          payload: ByteBuffer) {
        let count = payload.readableBytes
        let total = FrameHeader.size + MessagePrefix.size + count
        withBuffer { buffer in
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
                out.storeBytes(of: UInt32(truncatingIfNeeded: MessagePrefix.size + count).bigEndian, toByteOffset: 0,
                               as: UInt32.self)
                out[4] = FrameType.data.rawValue
                out[5] = flags.rawValue
                out.storeBytes(of: streamID.bigEndian, toByteOffset: 6, as: UInt32.self)
                out[10] = encoding.rawValue
                out.storeBytes(of: UInt32(truncatingIfNeeded: count).bigEndian, toByteOffset: 11, as: UInt32.self)
                payload.withUnsafeReadableBytes { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: out[15..<total]).copyMemory(from: bytes)
                }
                return total
            }
        }
    }

    /// Appends `length` bytes of `payload`, from `offset` past its reader index, to the
    /// frame just begun in `buffer`: small ones copied straight across (no slice made).
    mutating func appendPayload(of payload: ByteBuffer, from offset: Int, length: Int) {
        guard offset >= 0, length >= 0, offset + length <= payload.readableBytes else { return }
        if length < Self.copyThreshold {
            payload.withUnsafeReadableBytes { bytes in
                let part = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
                withBuffer { $0.writeBytes(part) }
            }
        } else if let slice = payload.getSlice(at: payload.readerIndex + offset, length: length) {
            appendPayload(slice)
        }
    }

    /// Appends payload bytes that belong to the frame just begun in `buffer`.
    private mutating func appendPayload(_ slice: ByteBuffer) {
        if slice.readableBytes < Self.copyThreshold {
            withBuffer { $0.writeImmutableBuffer(slice) }
        } else {
            if buffer.readableBytes > 0 {
                sealedBytes += buffer.readableBytes
                sealed.append(buffer)
                buffer = allocator.buffer(capacity: 0)
            }
            sealedBytes += slice.readableBytes
            sealed.append(slice)
        }
    }

    /// Everything collected, in order, leaving this empty.
    mutating func take() -> CollectedFrames {
        var out = CollectedFrames(sealed: sealed, last: nil, byteCount: byteCount)
        sealed = []
        sealedBytes = 0
        if buffer.readableBytes > 0 {
            out.last = buffer
            buffer = allocator.buffer(capacity: 0)
        }
        return out
    }
}

/// What `FrameOutput.take()` hands over, in write order: the sealed buffers, then the one
/// the small frames were copied into. Without large payloads (the common case) that is one
/// buffer, and no array is made for it.
struct CollectedFrames: Sequence {
    fileprivate var sealed: [ByteBuffer]
    fileprivate var last: ByteBuffer?
    /// The bytes of all the buffers.
    let byteCount: Int

    var isEmpty: Bool { sealed.isEmpty && last == nil }

    func makeIterator() -> Iterator { Iterator(sealed: sealed.makeIterator(), last: last) }

    struct Iterator: IteratorProtocol {
        fileprivate var sealed: IndexingIterator<[ByteBuffer]>
        fileprivate var last: ByteBuffer?

        mutating func next() -> ByteBuffer? {
            if let buffer = sealed.next() { return buffer }
            defer { last = nil }
            return last
        }
    }
}

extension ChannelHandlerContext {
    /// Writes the buffers `FrameOutput.take()` returned, then flushes; nothing when empty.
    func writeAndFlush(_ frames: CollectedFrames) {
        guard !frames.isEmpty else { return }
        for buffer in frames { write(NIOAny(buffer), promise: nil) }
        flush()
    }
}
