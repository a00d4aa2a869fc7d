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

    /// The encoding to compress responses with: the request's when the client accepts it,
    /// else gzip, else whatever else it accepts.
    static func preferred(among accepted: [GRPCEncoding], requestEncoding: GRPCEncoding?) -> GRPCEncoding? {
        if let requestEncoding, accepted.contains(requestEncoding) { return requestEncoding }
        return accepted.contains(.gzip) ? .gzip : accepted.first
    }

    var format: MessageCompression.Format { self == .gzip ? .gzip : .zlib }

    /// How a handler is told a request message arrived.
    var messageEncoding: MessageEncoding { self == .gzip ? .gzip : .deflate }

    func compress(_ message: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        MessageCompression.deflate(message, format: format, allocator: allocator)
    }
}

extension StringProtocol {
    var trimmingASCIISpaces: SubSequence {
        var s = self[...]
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return s
    }
}
