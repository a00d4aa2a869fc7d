import ConveneWire
import NIOCore

/// The message encodings gRPC negotiates that this server speaks (besides identity).
enum GRPCEncoding: String, Sendable {
    case gzip
    case deflate

    init?(name: String) {
        switch name.trimmingASCIISpaces {
        case "gzip": self = .gzip
        case "deflate": self = .deflate
        default: return nil
        }
    }

    /// Every encoding the server reads, for `grpc-accept-encoding`.
    static let acceptHeader = "identity,deflate,gzip"

    /// The encoding to compress responses with when the client accepts several.
    static func preferred(among accepted: [GRPCEncoding]) -> GRPCEncoding? {
        accepted.contains(.gzip) ? .gzip : accepted.first
    }

    var format: MessageCompression.Format { self == .gzip ? .gzip : .zlib }

    /// How a handler is told a request message arrived.
    var messageEncoding: MessageEncoding { self == .gzip ? .gzip : .deflate }

    func compress(_ message: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        MessageCompression.deflate(message, format: format, allocator: allocator)
    }
}

extension String {
    var trimmingASCIISpaces: Substring {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return s
    }
}
