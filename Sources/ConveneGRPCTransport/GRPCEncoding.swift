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

    /// A comma-separated list; unknown names (identity included) are skipped. Scans the
    /// bytes in place: this runs for every call.
    init(parsing value: String) {
        var value = value
        value.withUTF8 { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
                var (low, high) = (start, end)
                while low < high, bytes[low] == UInt8(ascii: " ") || bytes[low] == UInt8(ascii: "\t") { low += 1 }
                while high > low, bytes[high - 1] == UInt8(ascii: " ") || bytes[high - 1] == UInt8(ascii: "\t") { high -= 1 }
                let token = UnsafeBufferPointer(rebasing: bytes[low..<high])
                if token.elementsEqual("gzip".utf8) { gzip = true }
                if token.elementsEqual("deflate".utf8) { deflate = true }
                start = end + 1
            }
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
