import NIOCore

/// Writes frames into a buffer. The per-call hot path uses the specific writers
/// (`writeDataFrame`, `writeEndFrame`) that write straight into an output buffer
/// shared by all the calls of one read batch.
extension ByteBuffer {
    /// Writes any frame.
    public mutating func writeFrame(_ frame: Frame) {
        switch frame {
        case .settings(let settings):
            var count = 0
            settings.forEachPair { _, _ in count += 1 }
            writeFrameHeader(FrameHeader(length: UInt32(count * 6), type: .settings, flags: [], streamID: 0))
            settings.forEachPair { id, value in writeMultipleIntegers(id, value) }
        case .settingsAck:
            writeFrameHeader(FrameHeader(length: 0, type: .settings, flags: .ack, streamID: 0))
        case .call(let stream, let start):
            writeCallFrame(streamID: stream, start)
        case .headers(let stream, let metadata):
            writeHeadersFrame(streamID: stream, metadata)
        case .data(let stream, let payload, let endStream):
            writeFrameHeader(FrameHeader(length: UInt32(payload.readableBytes), type: .data,
                                         flags: endStream ? .endStream : [], streamID: stream))
            writeImmutableBuffer(payload)
        case .end(let stream, let end):
            writeEndFrame(streamID: stream, end)
        case .cancel(let stream, let code):
            writeFrameHeader(FrameHeader(length: 1, type: .cancel, flags: [], streamID: stream))
            writeInteger(code.rawValue)
        case .ping(let opaque, let ack):
            writeFrameHeader(FrameHeader(length: 8, type: .ping, flags: ack ? .ack : [], streamID: 0))
            writeInteger(opaque)
        case .goAway(let goAway):
            let message = goAway.message.utf8.prefix(Int(UInt16.max))
            writeFrameHeader(FrameHeader(length: UInt32(7 + message.count), type: .goAway, flags: [], streamID: 0))
            writeMultipleIntegers(goAway.lastStreamID, goAway.code.rawValue, UInt16(message.count))
            writeBytes(message)
        case .windowUpdate(let stream, let increment):
            writeFrameHeader(FrameHeader(length: 4, type: .windowUpdate, flags: [], streamID: stream))
            writeInteger(increment)
        }
    }

    public mutating func writeCallFrame(streamID: UInt32, _ start: CallStart) {
        let header = writeFrameHeaderPlaceholder(type: .call, flags: [], streamID: streamID)
        // A path never fits 64 KiB in practice; cut rather than trap (the server answers UNIMPLEMENTED).
        let path = start.path.utf8.prefix(Int(UInt16.max))
        writeMultipleIntegers(start.timeoutMicros, start.responseEncoding.rawValue, UInt16(path.count))
        writeBytes(path)
        writeMetadataBlock(start.metadata)
        patchFrameLength(headerAt: header)
    }

    public mutating func writeHeadersFrame(streamID: UInt32, _ metadata: Metadata) {
        let header = writeFrameHeaderPlaceholder(type: .headers, flags: [], streamID: streamID)
        writeMetadataBlock(metadata)
        patchFrameLength(headerAt: header)
    }

    public mutating func writeEndFrame(streamID: UInt32, _ end: CallEnd) {
        writeEndFrame(streamID: streamID, code: end.code, message: end.message, trailers: end.trailers)
    }

    public mutating func writeEndFrame(streamID: UInt32, code: StatusCode, message: String, trailers: Metadata) {
        if message.isEmpty && trailers.isEmpty {
            // The usual END, a bare status: header, code, an empty message and an empty
            // metadata block (1 + 4 + 2 bytes of payload) in one write.
            writeMultipleIntegers(UInt32(7), FrameType.end.rawValue, FrameFlags().rawValue, streamID,
                                  code.rawValue, UInt32(0), UInt16(0))
            return
        }
        let header = writeFrameHeaderPlaceholder(type: .end, flags: [], streamID: streamID)
        let message = StatusMessage.bounded(message)
        writeMultipleIntegers(code.rawValue, UInt32(message.utf8.count))
        writeString(message)
        writeMetadataBlock(trailers)
        patchFrameLength(headerAt: header)
    }

    /// Writes one DATA frame holding one whole length-prefixed message.
    /// The caller makes sure `5 + message.readableBytes` fits the peer's MAX_FRAME_SIZE.
    public mutating func writeDataFrame(streamID: UInt32, message: ByteBuffer, encoding: MessageEncoding,
                                        endStream: Bool = false) {
        writeFrameHeader(FrameHeader(length: UInt32(MessagePrefix.size + message.readableBytes), type: .data,
                                     flags: endStream ? .endStream : [], streamID: streamID))
        writeMultipleIntegers(encoding.rawValue, UInt32(message.readableBytes))
        writeImmutableBuffer(message)
    }
}
