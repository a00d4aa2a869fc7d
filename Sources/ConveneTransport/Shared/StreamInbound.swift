import ConveneRPC
import ConveneWire
import NIOCore

/// One message received whole on a stream, decoded to identity encoding.
struct InboundMessage {
    var bytes: ByteBuffer
    /// How it arrived: identity, or the encoding it was compressed with.
    var encoding: MessageEncoding
    /// Bytes it took on the wire (prefix included), for flow-control credit.
    var wireSize: Int
}

/// The receiving side of one stream, on either end of a connection: DATA payload
/// accounted against the window, cut into messages and decoded, and the credit to give back.
///
/// It also counts what the stream holds of the connection window (`connectionHeld`): every
/// byte received, until its message has been taken by the application (`consumedOne`,
/// `releaseAll`); the bytes of an incomplete message stay held.
struct StreamInbound {
    private var deframer: MessageDeframer
    private var flow: ReceiveFlow
    /// Bytes received on this stream and not yet released to the connection window.
    private(set) var connectionHeld = 0
    /// Wire sizes of delivered messages not yet taken, oldest first.
    private var deliveredSizes: CircularBuffer<Int>?

    init(local: Settings) {
        deframer = MessageDeframer(maxMessageSize: local.maxMessageSize)
        flow = ReceiveFlow(window: local.initialWindowSize)
    }

    /// Bytes received but not yet cut into a whole message.
    var bufferedBytes: Int { deframer.bufferedBytes }

    /// Storage made ready for the rest of an incomplete message beyond the bytes received
    /// (room the peer may fill within its credit): held, so a server counts it too.
    var reservedRoom: Int { deframer.reservedRoom }

    /// Messages delivered and not yet taken by the application.
    var keptMessages: Int { deliveredSizes?.count ?? 0 }

    /// Accounts `payload` against the window and keeps it; false (a flow-control error)
    /// when the peer sent past its credit.
    mutating func accept(_ payload: ByteBuffer) -> Bool {
        guard flow.receive(payload.readableBytes) else { return false }
        connectionHeld += payload.readableBytes
        deframer.append(payload)
        return true
    }

    /// The next whole message, checked against this side's limits and inflated; nil when
    /// more bytes are needed. Throws the rule a message broke (its status: `WireError.callStatus`).
    /// `inflated` grows by the bytes inflating produced, a message refused midway included
    /// (the work was done all the same).
    mutating func next(settings: Settings, maxRatio: Int, allocator: ByteBufferAllocator,
                       inflated: inout Int) throws(WireError) -> InboundMessage? {
        guard let framed = try deframer.next(room: flow.window) else { return nil }
        let wireSize = MessagePrefix.size + framed.bytes.readableBytes
        switch framed.encoding {
        case .identity:
            return InboundMessage(bytes: framed.bytes, encoding: .identity, wireSize: wireSize)
        case .deflate where settings.acceptEncodings.contains(.deflate):
            do {
                let bytes = try MessageCompression.inflate(framed.bytes, limit: settings.maxMessageSize, maxRatio: maxRatio,
                                                           allocator: allocator)
                inflated += bytes.readableBytes
                return InboundMessage(bytes: bytes, encoding: .deflate, wireSize: wireSize)
            } catch {
                // Refused at a limit: it may have inflated up to that limit first.
                inflated += MessageCompression.inflateBound(compressed: framed.bytes.readableBytes,
                                                            limit: settings.maxMessageSize, maxRatio: maxRatio)
                throw error
            }
        default:
            throw .encodingNotAccepted(framed.encoding)
        }
    }

    /// Credit for bytes of a message still being reassembled, due at once (so that a
    /// message larger than the window can complete).
    mutating func creditPartial() -> UInt32? {
        flow.partialBuffered(deframer.bufferedBytes)
    }

    /// `message` went to the application, which will say when it has taken it.
    mutating func delivered(_ message: InboundMessage) {
        flow.messageDelivered(wireSize: message.wireSize)
        if deliveredSizes == nil { deliveredSizes = CircularBuffer(initialCapacity: 4) }
        deliveredSizes?.append(message.wireSize)
    }

    /// The application took its oldest delivered message: the stream credit to announce, if
    /// due, and the bytes it releases from the connection window.
    mutating func consumedOne() -> (credit: UInt32?, released: Int) {
        let credit = flow.consumedOne()
        guard let size = deliveredSizes?.popFirst() else { return (credit, 0) }
        let released = min(size, connectionHeld)
        connectionHeld -= released
        return (credit, released)
    }

    /// Releases everything the stream holds of the connection window (its request was taken
    /// whole, or the call ended); returns how much.
    mutating func releaseAll() -> Int {
        defer {
            connectionHeld = 0
            deliveredSizes = nil
        }
        return connectionHeld
    }
}

extension WireError {
    /// The status that ends a call when one of its messages breaks a rule (PROTOCOL.md §2.4
    /// and §4): RESOURCE_EXHAUSTED for a size limit, INTERNAL for anything else (an encoding
    /// that was not negotiated, corrupt compressed data), as gRPC does.
    var callStatus: StatusCode {
        switch self {
        case .messageTooLarge, .decompressedTooLarge, .decompressionRatio, .metadataTooLarge: .resourceExhausted
        default: .internal
        }
    }
}
