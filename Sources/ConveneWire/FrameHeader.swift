import NIOCore

/// The fixed 10-byte header that starts every frame.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +---------------------------------------------------------------+
/// |                     Payload length (32)                       |
/// +---------------+---------------+-------------------------------+
/// |   Type (8)    |   Flags (8)   |      Stream id (32) ...       |
/// +---------------+---------------+-------------------------------+
/// |   ... stream id               |  payload (length bytes) ...
/// +-------------------------------+
/// ```
/// All integers are big-endian.
public struct FrameHeader: Hashable, Sendable {
    public static let size = 10

    public var length: UInt32
    public var type: FrameType
    public var flags: FrameFlags
    public var streamID: UInt32

    public init(length: UInt32, type: FrameType, flags: FrameFlags, streamID: UInt32) {
        self.length = length
        self.type = type
        self.flags = flags
        self.streamID = streamID
    }
}

extension ByteBuffer {
    /// Reads a frame header without moving the reader index; nil when fewer than 10 bytes are readable.
    @inlinable
    public func peekFrameHeader() -> FrameHeader? {
        guard readableBytes >= FrameHeader.size,
              let length = getInteger(at: readerIndex, as: UInt32.self),
              let type = getInteger(at: readerIndex + 4, as: UInt8.self),
              let flags = getInteger(at: readerIndex + 5, as: UInt8.self),
              let stream = getInteger(at: readerIndex + 6, as: UInt32.self)
        else { return nil }
        return FrameHeader(length: length, type: FrameType(rawValue: type),
                           flags: FrameFlags(rawValue: flags), streamID: stream)
    }

    @inlinable
    @discardableResult
    public mutating func writeFrameHeader(_ header: FrameHeader) -> Int {
        writeMultipleIntegers(header.length, header.type.rawValue, header.flags.rawValue, header.streamID)
    }

    /// Writes a header whose length is patched later by `patchFrameLength(at:)`; returns the header's index.
    @inlinable
    mutating func writeFrameHeaderPlaceholder(type: FrameType, flags: FrameFlags, streamID: UInt32) -> Int {
        let at = writerIndex
        writeMultipleIntegers(UInt32(0), type.rawValue, flags.rawValue, streamID)
        return at
    }

    @inlinable
    mutating func patchFrameLength(headerAt index: Int) {
        let length = writerIndex - index - FrameHeader.size
        setInteger(UInt32(truncatingIfNeeded: length), at: index)
    }
}
