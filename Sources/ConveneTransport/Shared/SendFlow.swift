import ConveneWire
import NIOCore

/// A message waiting to be sent on a stream, cut into DATA frames as credit allows.
struct OutboundMessage {
    let encoding: MessageEncoding
    let payload: ByteBuffer
    /// Bytes of prefix + payload already sent.
    var offset = 0
    /// Sends END_STREAM with the last frame of this message (client half-close).
    var endStream: Bool
    /// Resumed once the whole message has been handed to the channel.
    var completion: CheckedContinuation<Void, any Error>?

    var wireLength: Int { MessagePrefix.size + payload.readableBytes }
    var remaining: Int { wireLength - offset }
}

/// The sending half of one stream's flow control: the credit the peer has granted and
/// the messages waiting for more of it.
struct SendFlow {
    var window: Int
    var queue = CircularBuffer<OutboundMessage>()

    init(window: UInt32) { self.window = Int(window) }

    var isIdle: Bool { queue.isEmpty }

    /// Writes as many DATA frames as the window and the peer's frame size allow, oldest
    /// message first; returns the completions of messages that were finished.
    mutating func drain(streamID: UInt32, maxFrameSize: Int, output: inout FrameOutput,
                        finished: inout [CheckedContinuation<Void, any Error>]) {
        while var message = queue.first {
            // An empty half-close needs no credit.
            if message.remaining == 0 {
                output.withBuffer {
                    $0.writeFrameHeader(FrameHeader(length: 0, type: .data, flags: .endStream, streamID: streamID))
                }
                queue.removeFirst()
                if let c = message.completion { finished.append(c) }
                continue
            }
            let chunk = min(message.remaining, window, maxFrameSize)
            guard chunk > 0 else { return }
            let last = chunk == message.remaining
            output.withBuffer {
                $0.writeFrameHeader(FrameHeader(length: UInt32(chunk), type: .data,
                                                flags: last && message.endStream ? .endStream : [], streamID: streamID))
            }
            var written = 0
            // Prefix bytes first (possibly split across frames), then payload.
            while message.offset + written < MessagePrefix.size && written < chunk {
                let i = message.offset + written
                let byte: UInt8 = i == 0 ? message.encoding.rawValue
                    : UInt8(truncatingIfNeeded: UInt32(message.payload.readableBytes) >> (8 * (4 - i)))
                output.withBuffer { $0.writeInteger(byte) }
                written += 1
            }
            if written < chunk {
                let start = message.offset + written - MessagePrefix.size
                let slice = message.payload.getSlice(at: message.payload.readerIndex + start, length: chunk - written)!
                output.appendPayload(slice)
            }
            window -= chunk
            message.offset += chunk
            if last {
                queue.removeFirst()
                if let c = message.completion { finished.append(c) }
            } else {
                queue[queue.startIndex] = message
            }
        }
    }

    /// Fails every waiting message.
    mutating func failAll(_ error: any Error) {
        while let message = queue.popFirst() {
            message.completion?.resume(throwing: error)
        }
    }
}
