/// A violation of the wire format found while decoding. Each maps to the GOAWAY code
/// that closes the connection, except where the transport answers the one call instead.
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    case badPreface
    case frameTooLarge(declared: UInt32, limit: UInt32)
    case malformed(FrameType, String)
    case badStreamID(FrameType, UInt32)
    case badSetting(String)
    case metadataTooLarge(size: Int, limit: UInt32)
    case tooManyMetadataEntries(Int, limit: UInt16)
    case messageTooLarge(declared: UInt32, limit: UInt32)
    case decompressedTooLarge(limit: UInt32)
    case decompressionRatio(limit: Int)
    case badCompressedData(String)
    case encodingNotAccepted(MessageEncoding)

    public var goAwayCode: GoAwayCode {
        switch self {
        case .frameTooLarge: .frameSizeError
        default: .protocolError
        }
    }

    public var description: String {
        switch self {
        case .badPreface:
            "connection preface is not 'CNVN' (is the peer speaking the Convene protocol?)"
        case .frameTooLarge(let declared, let limit):
            "frame declares \(declared) bytes of payload, over MAX_FRAME_SIZE \(limit)"
        case .malformed(let type, let why):
            "malformed \(type) frame: \(why)"
        case .badStreamID(let type, let id):
            "\(type) frame on invalid stream id \(id)"
        case .badSetting(let why):
            "bad setting: \(why)"
        case .metadataTooLarge(let size, let limit):
            "metadata block of \(size) bytes (counting 32 per entry) is over MAX_METADATA_SIZE \(limit)"
        case .tooManyMetadataEntries(let count, let limit):
            "metadata block of \(count) entries is over the limit of \(limit) entries"
        case .messageTooLarge(let declared, let limit):
            "message declares \(declared) bytes, over the limit of \(limit)"
        case .decompressedTooLarge(let limit):
            "message inflates past the limit of \(limit) bytes (MAX_MESSAGE_SIZE)"
        case .decompressionRatio(let limit):
            "message inflates more than \(limit) times its compressed size"
        case .badCompressedData(let why):
            "compressed message is corrupt: \(why)"
        case .encodingNotAccepted(let encoding):
            "message is compressed with \(encoding), which was not negotiated"
        }
    }
}
