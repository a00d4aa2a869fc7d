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


    var format: MessageCompression.Format { self == .gzip ? .gzip : .zlib }

    /// How a handler is told a request message arrived.
    var messageEncoding: MessageEncoding { self == .gzip ? .gzip : .deflate }

    func compress(_ message: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        MessageCompression.deflate(message, format: format, allocator: allocator)
    }
}

/// The encodings a client accepts (`grpc-accept-encoding`), read without allocating.
struct GRPCEncodingSet {
    var gzip = false
    var deflate = false

    init() {}

    /// A comma-separated list; unknown names (identity included) are skipped.
    init(parsing value: String) {
        var token = Substring(value)[...]
        while !token.isEmpty {
            let end = token.firstIndex(of: ",") ?? token.endIndex
            switch token[token.startIndex..<end].trimmingASCIISpaces {
            case "gzip": gzip = true
            case "deflate": deflate = true
            default: break
            }
            token = end == token.endIndex ? token[end...] : token[token.index(after: end)...]
        }
    }

    mutating func formUnion(_ other: GRPCEncodingSet) {
        gzip = gzip || other.gzip
        deflate = deflate || other.deflate
    }

    func contains(_ encoding: GRPCEncoding) -> Bool { encoding == .gzip ? gzip : deflate }

    /// The encoding to compress responses with: the request's when the client accepts it,
    /// else gzip, else deflate.
    func preferred(requestEncoding: GRPCEncoding?) -> GRPCEncoding? {
        if let requestEncoding, contains(requestEncoding) { return requestEncoding }
        return gzip ? .gzip : deflate ? .deflate : nil
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
