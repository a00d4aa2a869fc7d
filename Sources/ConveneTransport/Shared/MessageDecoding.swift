import ConveneRPC
import ConveneWire
import NIOCore

extension FramedMessage {
    /// The message's bytes in identity encoding, checked against what this side negotiated.
    ///
    /// Fails with the status the receiver answers: INTERNAL for an encoding that was not
    /// negotiated or corrupt compressed data (as gRPC), RESOURCE_EXHAUSTED for a message
    /// that inflates past the limits.
    func decoded(settings: Settings, maxRatio: Int, allocator: ByteBufferAllocator) throws(RPCError) -> ByteBuffer {
        switch encoding {
        case .identity:
            return bytes
        case let encoding where !settings.acceptEncodings.contains(encoding):
            throw RPCError(.internal, WireError.encodingNotAccepted(encoding).description)
        case .deflate:
            do {
                return try MessageCompression.inflate(bytes, limit: settings.maxMessageSize, maxRatio: maxRatio,
                                                      allocator: allocator)
            } catch {
                switch error {
                case .decompressedTooLarge, .decompressionRatio:
                    throw RPCError(.resourceExhausted, error.description)
                default:
                    throw RPCError(.internal, error.description)
                }
            }
        default:
            throw RPCError(.internal, WireError.encodingNotAccepted(encoding).description)
        }
    }
}

extension WireError {
    /// The status that ends a call when a message of it breaks a limit.
    var callError: RPCError {
        switch self {
        case .messageTooLarge, .decompressedTooLarge, .decompressionRatio, .metadataTooLarge:
            RPCError(.resourceExhausted, description)
        default:
            RPCError(.internal, description)
        }
    }
}
