import NIOCore

/// The 5-byte prefix of each message in a stream's DATA bytes.
///
/// ```
/// +---------------+---------------------------------------------------------------+
/// | encoding (8)  |                        length (32)                            |
/// +---------------+---------------------------------------------------------------+
/// |  message (length bytes) ...
/// ```
/// Encoding 0 is identity (not compressed); 1 is deflate. A message may span DATA frames
/// and one DATA frame may hold several messages.
public enum MessagePrefix {
    public static let size = 5
}

/// One message cut out of a stream, still in its wire encoding.
public struct FramedMessage: Hashable, Sendable {
    public var encoding: MessageEncoding
    public var bytes: ByteBuffer
}

/// Reassembles length-prefixed messages from the DATA payloads of one stream.
///
/// The declared length is checked against `maxMessageSize` as soon as the prefix is
/// readable, before the rest of the message is kept. A whole message is a slice of the
/// bytes it came in (no copy); the bytes of an incomplete message are copied into storage
/// of their own, so that a few bytes kept between reads never hold a whole read buffer.
public struct MessageDeframer: Sendable {
    public var maxMessageSize: UInt32
    private var pending: ByteBuffer?
    /// Whether `pending` is storage of our own, not a slice of someone's buffer.
    private var owned = false

    public init(maxMessageSize: UInt32) {
        self.maxMessageSize = maxMessageSize
    }

    /// Bytes received but not yet cut into a whole message.
    public var bufferedBytes: Int { pending?.readableBytes ?? 0 }

    /// The storage the deframer holds for them (an incomplete message and the room reserved
    /// for its rest): what a peer can make the server hold on this stream.
    public var reservedBytes: Int { pending?.capacity ?? 0 }

    /// The part of that storage made ready for bytes still to come (not the bytes held, nor
    /// those of messages already cut out of it, which their own holders count).
    public var reservedRoom: Int { pending?.writableBytes ?? 0 }

    /// The whole size, prefix included, of the message being received, once its prefix has
    /// arrived (and `next()` has checked its length); nil while no prefix is whole.
    public var pendingMessageWireSize: Int? {
        guard let buffer = pending,
              let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self),
              length <= maxMessageSize
        else { return nil }
        return MessagePrefix.size + Int(length)
    }

    public mutating func append(_ data: ByteBuffer) {
        guard data.readableBytes > 0 else { return }
        guard var buffer = pending, buffer.readableBytes > 0 else {
            pending = data
            owned = false
            return
        }
        pending = nil  // keep the storage uniquely referenced while appending
        buffer.writeImmutableBuffer(data)
        pending = buffer
        owned = true  // written to: copied on write if it was shared
    }

    /// Keeps what is left of an incomplete message in storage of its own, with room for as
    /// much of the rest of it as the peer may send now (`room`, its flow-control credit):
    /// the message then grows into that room without being copied again at each doubling.
    /// A declared length alone reserves nothing beyond `room`, whatever it says.
    private mutating func keepIncomplete(room: Int) {
        guard var buffer = pending else { return }
        let held = buffer.readableBytes
        var wanted = held
        if let declared = pendingMessageWireSize { wanted = max(held, min(declared, held + max(0, room))) }
        pending = nil  // keep the storage uniquely referenced while it grows
        if owned {
            if wanted > held { buffer.reserveCapacity(minimumWritableBytes: wanted - held) }
        } else {
            var copy = ByteBufferAllocator().buffer(capacity: wanted)
            copy.writeImmutableBuffer(buffer)
            buffer = copy
            owned = true
        }
        pending = buffer
    }

    /// The next whole message, or nil when more bytes are needed; `room` is how many more
    /// bytes the peer may send on the stream now (what an incomplete message may reserve).
    public mutating func next(room: Int = 0) throws(WireError) -> FramedMessage? {
        guard var buffer = pending else { return nil }
        guard let (flag, length) = buffer.getMultipleIntegers(at: buffer.readerIndex, as: (UInt8, UInt32).self) else {
            keepIncomplete(room: room)
            return nil
        }
        guard length <= maxMessageSize else {
            throw .messageTooLarge(declared: length, limit: maxMessageSize)
        }
        guard let message = buffer.getSlice(at: buffer.readerIndex + MessagePrefix.size, length: Int(length)) else {
            keepIncomplete(room: room)
            return nil
        }
        pending = nil  // keep the storage uniquely referenced while we slice
        buffer.moveReaderIndex(forwardBy: MessagePrefix.size + Int(length))
        pending = buffer.readableBytes > 0 ? buffer : nil
        return FramedMessage(encoding: MessageEncoding(rawValue: flag), bytes: message)
    }
}
