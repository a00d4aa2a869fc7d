import NIOCore

/// Cuts frames out of a byte stream.
///
/// A state machine over the stream: it waits for a 10-byte header, checks the declared
/// length against `maxFrameSize` before it keeps a byte of payload, then waits for the
/// payload and decodes it. Payload bytes of DATA frames are slices of the input (no copy).
public struct FrameParser: Sendable {
    /// Largest payload accepted; what this side announced as MAX_FRAME_SIZE.
    public var maxFrameSize: UInt32
    /// Largest metadata block accepted; what this side announced as MAX_METADATA_SIZE.
    public var maxMetadataSize: UInt32

    public init(maxFrameSize: UInt32 = Settings().maxFrameSize, maxMetadataSize: UInt32 = Settings().maxMetadataSize) {
        self.maxFrameSize = maxFrameSize
        self.maxMetadataSize = maxMetadataSize
    }

    public init(limits: Settings) {
        self.init(maxFrameSize: limits.maxFrameSize, maxMetadataSize: limits.maxMetadataSize)
    }

    /// The next whole frame in `buffer`, consuming it; nil when more bytes are needed.
    @inlinable
    public func next(from buffer: inout ByteBuffer) throws(WireError) -> Frame? {
        var none = RecentPaths(capacity: 0)
        return try next(from: &buffer, recentPaths: &none)
    }

    /// The next whole frame in `buffer`, consuming it; nil when more bytes are needed. A
    /// CALL frame's path is looked up in, or added to, the connection's `recentPaths`.
    @inlinable
    public func next(from buffer: inout ByteBuffer, recentPaths: inout RecentPaths) throws(WireError) -> Frame? {
        guard let header = buffer.peekFrameHeader() else { return nil }
        guard header.length <= maxFrameSize else {
            throw .frameTooLarge(declared: header.length, limit: maxFrameSize)
        }
        guard var payload = buffer.getSlice(at: buffer.readerIndex + FrameHeader.size, length: Int(header.length)) else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: FrameHeader.size + Int(header.length))
        return try decodePayload(header: header, payload: &payload, recentPaths: &recentPaths)
    }

    @usableFromInline
    func decodePayload(header: FrameHeader, payload: inout ByteBuffer,
                       recentPaths: inout RecentPaths) throws(WireError) -> Frame {
        let type = header.type
        let stream = header.streamID
        switch type {
        case .data:
            try requireStream(type, stream)
            return .data(streamID: stream, payload, endStream: header.flags.contains(.endStream))

        case .call:
            try requireStream(type, stream)
            guard let (timeout, encoding, pathLength) = payload.readMultipleIntegers(as: (UInt64, UInt8, UInt16).self),
                  let path = recentPaths.readPath(from: &payload, length: Int(pathLength))
            else { throw .malformed(type, "truncated before the end of the method path") }
            let metadata = try recentPaths.metadata.readBlock(endingPayload: &payload, limit: maxMetadataSize, in: type)
            try requireConsumed(type, payload)
            return .call(streamID: stream, CallStart(path: path, timeoutMicros: timeout,
                                                     responseEncoding: MessageEncoding(rawValue: encoding),
                                                     metadata: metadata))

        case .end:
            try requireStream(type, stream)
            guard let (code, messageLength) = payload.readMultipleIntegers(as: (UInt8, UInt32).self),
                  let message = payload.readString(length: Int(messageLength))
            else { throw .malformed(type, "truncated before the end of the status message") }
            let trailers = try payload.readMetadataBlock(limit: maxMetadataSize, in: type)
            try requireConsumed(type, payload)
            return .end(streamID: stream, CallEnd(code: StatusCode(rawValue: code), message: message, trailers: trailers))

        case .headers:
            try requireStream(type, stream)
            let metadata = try payload.readMetadataBlock(limit: maxMetadataSize, in: type)
            try requireConsumed(type, payload)
            return .headers(streamID: stream, metadata)

        case .windowUpdate:
            // Stream 0: credit for the connection window (PROTOCOL.md §5).
            guard stream <= 0x7FFF_FFFF else { throw .badStreamID(type, stream) }
            guard payload.readableBytes == 4, let increment = payload.readInteger(as: UInt32.self) else {
                throw .malformed(type, "payload must be 4 bytes, got \(header.length)")
            }
            guard increment > 0, increment <= Settings.maxWindowSize else {
                throw .malformed(type, "increment \(increment) is outside 1...\(Settings.maxWindowSize)")
            }
            return .windowUpdate(streamID: stream, increment: increment)

        case .cancel:
            try requireStream(type, stream)
            guard payload.readableBytes == 1, let code = payload.readInteger(as: UInt8.self) else {
                throw .malformed(type, "payload must be 1 byte, got \(header.length)")
            }
            return .cancel(streamID: stream, StatusCode(rawValue: code))

        case .ping:
            try requireConnection(type, stream)
            guard payload.readableBytes == 8, let opaque = payload.readInteger(as: UInt64.self) else {
                throw .malformed(type, "payload must be 8 bytes, got \(header.length)")
            }
            return .ping(opaque, ack: header.flags.contains(.ack))

        case .settings:
            try requireConnection(type, stream)
            if header.flags.contains(.ack) {
                guard header.length == 0 else { throw .malformed(type, "an ack must be empty") }
                return .settingsAck
            }
            guard header.length % 6 == 0 else {
                throw .malformed(type, "payload of \(header.length) bytes is not a multiple of 6")
            }
            var settings = Settings()
            while let (id, value) = payload.readMultipleIntegers(as: (UInt16, UInt32).self) {
                try settings.apply(id: id, value: value)
            }
            return .settings(settings)

        case .goAway:
            try requireConnection(type, stream)
            guard let (last, code, messageLength) = payload.readMultipleIntegers(as: (UInt32, UInt8, UInt16).self),
                  let message = payload.readString(length: Int(messageLength))
            else { throw .malformed(type, "truncated") }
            try requireConsumed(type, payload)
            return .goAway(GoAway(lastStreamID: last, code: GoAwayCode(rawValue: code), message: message))

        default:
            throw .malformed(type, "unknown frame type")
        }
    }

    @inlinable
    func requireStream(_ type: FrameType, _ stream: UInt32) throws(WireError) {
        guard stream != 0, stream <= 0x7FFF_FFFF else { throw .badStreamID(type, stream) }
    }

    @inlinable
    func requireConnection(_ type: FrameType, _ stream: UInt32) throws(WireError) {
        guard stream == 0 else { throw .badStreamID(type, stream) }
    }

    @inlinable
    func requireConsumed(_ type: FrameType, _ payload: ByteBuffer) throws(WireError) {
        guard payload.readableBytes == 0 else {
            throw .malformed(type, "\(payload.readableBytes) unexpected bytes after the payload")
        }
    }
}
