import NIOCore

/// Bytes of an incomplete frame kept between reads. A read with nothing pending is parsed
/// in place, without a copy.
struct InboundBuffer {
    private var pending: ByteBuffer?

    /// The bytes to parse now: what was pending followed by this read.
    mutating func appending(_ bytes: inout ByteBuffer) -> ByteBuffer {
        guard var combined = pending else { return bytes }
        pending = nil
        combined.writeBuffer(&bytes)
        return combined
    }

    /// Keeps what is left after parsing, if anything.
    mutating func keep(_ rest: ByteBuffer) {
        pending = rest.readableBytes > 0 ? rest : nil
    }
}
