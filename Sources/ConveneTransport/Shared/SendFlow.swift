import ConveneWire
import NIOCore

/// A message waiting to be sent on a stream, cut into DATA frames as credit allows.
/// `Completion` is whoever waits for it to be handed to the channel (a continuation, or a
/// token in tests).
struct OutboundMessage<Completion> {
    let encoding: MessageEncoding
    let payload: ByteBuffer
    /// Bytes of prefix + payload already sent.
    var offset = 0
    /// Sends END_STREAM with the last frame of this message (client half-close).
    var endStream: Bool
    /// Told once the whole message has been handed to the output.
    var completion: Completion?

    init(encoding: MessageEncoding, payload: ByteBuffer, endStream: Bool = false, completion: Completion? = nil) {
        self.encoding = encoding
        self.payload = payload
        self.endStream = endStream
        self.completion = completion
    }

    /// A bare half-close: an empty DATA frame with END_STREAM, no message.
    static func halfClose(completion: Completion?) -> OutboundMessage {
        var message = OutboundMessage(encoding: .identity, payload: ByteBuffer(), endStream: true, completion: completion)
        message.offset = MessagePrefix.size
        return message
    }

    var wireLength: Int { MessagePrefix.size + payload.readableBytes }
    var remaining: Int { wireLength - offset }
}

/// The sending half of one stream's flow control: the credit the peer has granted and
/// the messages waiting for more of it.
///
/// The queue is an array: a writer waits until its message is out before it sends the
/// next, so a stream rarely holds more than one or two.
struct SendFlow<Completion> {
    private(set) var window: Int
    private var queue: [OutboundMessage<Completion>] = []

    init(window: UInt32) { self.window = Int(window) }

    var isIdle: Bool { queue.isEmpty }

    /// Adds credit from a WINDOW_UPDATE; false (and no change) when the window would pass
    /// 2^31-1, which the receiver must treat as a flow-control error.
    mutating func grant(_ increment: UInt32) -> Bool {
        let (sum, overflow) = window.addingReportingOverflow(Int(increment))
        guard !overflow, sum <= Int(Settings.maxWindowSize) else { return false }
        window = sum
        return true
    }

    enum Step {
        /// A message went out whole; its completion, if any.
        case sent(Completion?)
        /// Nothing more can go now: the queue is empty or the window is spent.
        case waiting
    }

    /// Sends `message` at once when nothing waits before it and the window allows (no
    /// queueing on the fast path); otherwise queues what is left of it for `sendNext`.
    mutating func send(_ message: OutboundMessage<Completion>, streamID: UInt32, maxFrameSize: Int,
                       output: inout FrameOutput) -> Step {
        guard queue.isEmpty else {
            queue.append(message)
            return .waiting
        }
        var message = message
        if write(&message, streamID: streamID, maxFrameSize: maxFrameSize, output: &output) {
            return .sent(message.completion)
        }
        queue.append(message)
        return .waiting
    }

    /// Writes the oldest waiting message as far as the window and the peer's frame size
    /// allow. Call it until it answers `.waiting`.
    mutating func sendNext(streamID: UInt32, maxFrameSize: Int, output: inout FrameOutput) -> Step {
        guard var message = queue.first else { return .waiting }
        if write(&message, streamID: streamID, maxFrameSize: maxFrameSize, output: &output) {
            queue.removeFirst()
            return .sent(message.completion)
        }
        queue[0] = message
        return .waiting
    }

    /// Writes DATA frames of `message` while credit lasts; true once all of it is written.
    private mutating func write(_ message: inout OutboundMessage<Completion>, streamID: UInt32, maxFrameSize: Int,
                                output: inout FrameOutput) -> Bool {
        // An empty half-close needs no credit.
        if message.remaining == 0 {
            output.withBuffer {
                $0.writeFrameHeader(FrameHeader(length: 0, type: .data, flags: .endStream, streamID: streamID))
            }
            return true
        }
        while message.remaining > 0 {
            let chunk = min(message.remaining, window, maxFrameSize)
            guard chunk > 0 else { return false }
            writeFrame(of: message, chunk: chunk, streamID: streamID, output: &output)
            window -= chunk
            message.offset += chunk
        }
        return true
    }

    /// Takes every waiting message out, for failing their completions.
    mutating func removeAll() -> [OutboundMessage<Completion>] {
        defer { queue = [] }
        return queue
    }

    /// One DATA frame of `chunk` bytes from the message's offset: prefix bytes first
    /// (possibly split across frames), then payload.
    private func writeFrame(of message: OutboundMessage<Completion>, chunk: Int, streamID: UInt32,
                            output: inout FrameOutput) {
        let last = chunk == message.remaining
        output.withBuffer {
            $0.writeFrameHeader(FrameHeader(length: UInt32(chunk), type: .data,
                                            flags: last && message.endStream ? .endStream : [], streamID: streamID))
        }
        var written = 0
        let length = UInt32(truncatingIfNeeded: message.payload.readableBytes)
        while message.offset + written < MessagePrefix.size && written < chunk {
            let i = message.offset + written
            let byte: UInt8 = i == 0 ? message.encoding.rawValue : UInt8(truncatingIfNeeded: length >> (8 * (4 - i)))
            output.withBuffer { $0.writeInteger(byte) }
            written += 1
        }
        if written < chunk {
            let start = message.offset + written - MessagePrefix.size
            if let slice = message.payload.getSlice(at: message.payload.readerIndex + start, length: chunk - written) {
                output.appendPayload(slice)
            }
        }
    }
}
