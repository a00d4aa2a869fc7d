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
    /// Whether room for the whole message is reserved in the connection window (it has started).
    var reserved = false
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
/// the messages waiting for more of it (or for room in the connection window).
///
/// The queue is an array: a writer waits until its message is out before it sends the
/// next, so a stream rarely holds more than one or two.
struct SendFlow<Completion> {
    private(set) var window: Int
    private var queue: [OutboundMessage<Completion>] = []
    /// Bytes of the queued messages not sent yet.
    private(set) var queuedBytes = 0

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
        /// Nothing more can go now: the queue is empty or the stream's window is spent.
        case waiting
        /// The next message cannot start until the connection window has room for it.
        case blockedOnConnection
    }

    /// Sends `message` at once when nothing waits before it and the windows allow (no
    /// queueing on the fast path); otherwise queues what is left of it for `sendNext`.
    mutating func send(_ message: OutboundMessage<Completion>, streamID: UInt32, maxFrameSize: Int,
                       connection: inout ConnectionSendWindow, output: inout FrameOutput) -> Step {
        guard queue.isEmpty else {
            queue.append(message)
            queuedBytes += message.remaining
            return .waiting
        }
        var message = message
        let step = write(&message, streamID: streamID, maxFrameSize: maxFrameSize, connection: &connection,
                         output: &output, retrying: false)
        if case .sent = step { return step }
        queue.append(message)
        queuedBytes += message.remaining
        return step
    }

    /// Writes the oldest waiting message as far as the windows and the peer's frame size
    /// allow. Call it until it answers something else than `.sent`; `retrying` when the
    /// stream is the one at the head of the connection window's line.
    mutating func sendNext(streamID: UInt32, maxFrameSize: Int, connection: inout ConnectionSendWindow,
                           output: inout FrameOutput, retrying: Bool = false) -> Step {
        guard var message = queue.first else { return .waiting }
        let before = message.remaining
        let step = write(&message, streamID: streamID, maxFrameSize: maxFrameSize, connection: &connection,
                         output: &output, retrying: retrying)
        queuedBytes -= before - message.remaining
        if case .sent = step {
            queue.removeFirst()
        } else {
            queue[0] = message
        }
        return step
    }

    /// Writes DATA frames of `message` while credit lasts.
    private mutating func write(_ message: inout OutboundMessage<Completion>, streamID: UInt32, maxFrameSize: Int,
                                connection: inout ConnectionSendWindow, output: inout FrameOutput,
                                retrying: Bool) -> Step {
        // An empty half-close needs no credit.
        if message.remaining == 0 {
            output.withBuffer {
                $0.writeFrameHeader(FrameHeader(length: 0, type: .data, flags: .endStream, streamID: streamID))
            }
            return .sent(message.completion)
        }
        if !message.reserved {
            guard connection.reserve(message.remaining, retrying: retrying) else { return .blockedOnConnection }
            message.reserved = true
        }
        while message.remaining > 0 {
            let chunk = min(message.remaining, window, maxFrameSize)
            guard chunk > 0 else { return .waiting }
            writeFrame(of: message, chunk: chunk, streamID: streamID, output: &output)
            window -= chunk
            connection.sent(chunk, endingMessage: chunk == message.remaining)
            message.offset += chunk
        }
        return .sent(message.completion)
    }

    /// Takes every waiting message out, for failing their completions, and gives back the
    /// connection-window room the started one had reserved.
    mutating func removeAll(connection: inout ConnectionSendWindow) -> [OutboundMessage<Completion>] {
        defer {
            queue = []
            queuedBytes = 0
        }
        for message in queue where message.reserved { connection.unreserve(message.remaining) }
        return queue
    }

    /// One DATA frame of `chunk` bytes from the message's offset: prefix bytes first
    /// (possibly split across frames), then payload.
    private func writeFrame(of message: OutboundMessage<Completion>, chunk: Int, streamID: UInt32,
                            output: inout FrameOutput) {
        let last = chunk == message.remaining
        let flags: FrameFlags = last && message.endStream ? .endStream : []
        let length = UInt32(truncatingIfNeeded: message.payload.readableBytes)
        if message.offset == 0 && last && message.payload.readableBytes < FrameOutput.copyThreshold {
            // The usual unary response: the whole message in this frame, copied in one write.
            output.appendWholeMessageFrame(streamID: streamID, flags: flags, encoding: message.encoding,
                                           payload: message.payload)
            return
        }
        var written = 0
        if message.offset == 0 && chunk >= MessagePrefix.size {
            // The usual frame: it starts with the whole prefix, written with the header at once.
            output.withBuffer {
                $0.writeMultipleIntegers(UInt32(chunk), FrameType.data.rawValue, flags.rawValue, streamID,
                                         message.encoding.rawValue, length)
            }
            written = MessagePrefix.size
        } else {
            output.withBuffer {
                $0.writeFrameHeader(FrameHeader(length: UInt32(chunk), type: .data, flags: flags, streamID: streamID))
            }
            while message.offset + written < MessagePrefix.size && written < chunk {
                let i = message.offset + written
                let byte: UInt8 = i == 0 ? message.encoding.rawValue : UInt8(truncatingIfNeeded: length >> (8 * (4 - i)))
                output.withBuffer { $0.writeInteger(byte) }
                written += 1
            }
        }
        if written < chunk {
            let start = message.offset + written - MessagePrefix.size
            output.appendPayload(of: message.payload, from: start, length: chunk - written)
        }
    }
}
