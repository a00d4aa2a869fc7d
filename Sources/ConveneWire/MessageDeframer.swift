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
/// readable, before the rest of the message is kept.
public struct MessageDeframer: Sendable {
    public var maxMessageSize: UInt32
    private var pending: ByteBuffer?

    public init(maxMessageSize: UInt32) {
        self.maxMessageSize = maxMessageSize
    }

    /// Bytes received but not yet cut into a whole message.
    public var bufferedBytes: Int { pending?.readableBytes ?? 0 }

    public mutating func append(_ data: ByteBuffer) {
        guard data.readableBytes > 0 else { return }
        guard var buffer = pending, buffer.readableBytes > 0 else {
            pending = data
            return
        }
        pending = nil  // keep the storage uniquely referenced while appending
        buffer.writeImmutableBuffer(data)
        pending = buffer
    }

    /// The next whole message, or nil when more bytes are needed.
    public mutating func next() throws(WireError) -> FramedMessage? {
        guard var buffer = pending,
              let (flag, length) = buffer.getMultipleIntegers(at: buffer.readerIndex, as: (UInt8, UInt32).self)
        else { return nil }
        guard length <= maxMessageSize else {
            throw .messageTooLarge(declared: length, limit: maxMessageSize)
        }
        guard let message = buffer.getSlice(at: buffer.readerIndex + MessagePrefix.size, length: Int(length)) else {
            return nil
        }
        pending = nil  // keep the storage uniquely referenced while we slice
        buffer.moveReaderIndex(forwardBy: MessagePrefix.size + Int(length))
        pending = buffer.readableBytes > 0 ? buffer : nil
        return FramedMessage(encoding: MessageEncoding(rawValue: flag), bytes: message)
    }
}
