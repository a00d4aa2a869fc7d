import CConveneZlib
import NIOCore

/// Per-message zlib (RFC 1950) compression, the "deflate" encoding, or gzip (RFC 1952),
/// which gRPC over HTTP/2 also negotiates.
///
/// Inflation is bounded twice: by an absolute size (the receiver's max message size)
/// and by a ratio to the compressed size, so a small "decompression bomb" is refused
/// after inflating at most `limit` bytes.
public enum MessageCompression {
    /// Default bound on inflated size / compressed size.
    public static let defaultMaxRatio = 1024

    /// The container around the deflate data.
    public enum Format: Sendable {
        /// RFC 1950, gRPC's "deflate".
        case zlib
        /// RFC 1952, gRPC's "gzip".
        case gzip

        var windowBits: Int32 { self == .zlib ? 15 : 15 + 16 }
    }

    public static func deflate(_ input: ByteBuffer, format: Format = .zlib,
                               allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        let output = try? ZStreamPool.with(inflating: false, format: format) { (stream) throws(WireError) -> ByteBuffer in
            let bound = Int(deflateBound(stream, UInt(input.readableBytes)))
            var output = allocator.buffer(capacity: bound)
            input.withUnsafeReadableBytes { source in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
                stream.pointee.avail_in = UInt32(source.count)
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { target in
                    stream.pointee.next_out = target.bindMemory(to: Bytef.self).baseAddress
                    stream.pointee.avail_out = UInt32(target.count)
                    let result = CConveneZlib.deflate(stream, Z_FINISH)
                    precondition(result == Z_STREAM_END, "deflate with deflateBound space did not finish: \(result)")
                    return target.count - Int(stream.pointee.avail_out)
                }
            }
            return output
        }
        guard let output = output.flatMap({ $0 }) else { preconditionFailure("zlib cannot allocate a deflate stream") }
        return output
    }

    /// Inflates `input`, refusing output over `limit` bytes or over `maxRatio` times the input.
    public static func inflate(_ input: ByteBuffer, limit: UInt32, maxRatio: Int = defaultMaxRatio, format: Format = .zlib,
                               allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(WireError) -> ByteBuffer {
        let inflated = try ZStreamPool.with(inflating: true, format: format) { (stream) throws(WireError) -> ByteBuffer in
            try inflate(input, into: stream, limit: limit, maxRatio: maxRatio, allocator: allocator)
        }
        guard let inflated else { throw .badCompressedData("inflateInit failed") }
        return inflated
    }

    /// The most `inflate` produces from `compressed` bytes before it refuses them: what a
    /// message refused at a limit cost to inflate.
    public static func inflateBound(compressed: Int, limit: UInt32, maxRatio: Int) -> Int {
        // Saturating: a huge configured ratio must not wrap the bound around.
        let (product, overflow) = max(compressed, 64).multipliedReportingOverflow(by: max(maxRatio, 1))
        return min(Int(limit), overflow ? Int.max : product)
    }

    private static func inflate(_ input: ByteBuffer, into stream: UnsafeMutablePointer<z_stream>, limit: UInt32, maxRatio: Int,
                                allocator: ByteBufferAllocator) throws(WireError) -> ByteBuffer {
        let hardLimit = inflateBound(compressed: input.readableBytes, limit: limit, maxRatio: maxRatio)
        var output = allocator.buffer(capacity: min(max(input.readableBytes, 64) * 4, hardLimit + 1))
        var failure: WireError?
        input.withUnsafeReadableBytes { source in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
            stream.pointee.avail_in = UInt32(clamping: source.count)  // at most a message: under 4 GiB
            while true {
                // Room for one byte past the limit, so that overflow is detected, not truncated;
                // never more than zlib can count in one call.
                let room = min(max(output.writableBytes, 4096), hardLimit + 1 - output.readableBytes, Int(UInt32.max))
                var status: Int32 = Z_OK
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { target in
                    stream.pointee.next_out = target.bindMemory(to: Bytef.self).baseAddress
                    stream.pointee.avail_out = UInt32(room)
                    status = CConveneZlib.inflate(stream, Z_NO_FLUSH)
                    return room - Int(stream.pointee.avail_out)
                }
                if output.readableBytes > hardLimit {
                    failure = hardLimit == Int(limit) ? .decompressedTooLarge(limit: limit) : .decompressionRatio(limit: maxRatio)
                    return
                }
                switch status {
                case Z_STREAM_END:
                    if stream.pointee.avail_in != 0 { failure = .badCompressedData("trailing bytes after the compressed stream") }
                    return
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.pointee.avail_in == 0:
                    failure = .badCompressedData("compressed stream is truncated")
                    return
                case Z_BUF_ERROR:
                    continue
                default:
                    let why = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    failure = .badCompressedData(why)
                    return
                }
            }
        }
        if let failure { throw failure }
        return output
    }
}
