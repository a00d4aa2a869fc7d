import CConveneZlib
import NIOConcurrencyHelpers

/// zlib streams kept for reuse. A deflate stream holds about 256 KiB of state, which
/// `deflateInit2` allocates and `deflateEnd` frees: once per message, glibc maps and
/// unmaps it each time (measured on the gRPC path as page faults and TLB shootdowns).
/// Here a stream is reset (`deflateReset`, `inflateReset`: no allocation) and kept, a few
/// per kind, for the next message on any thread.
enum ZStreamPool {
    /// One heap-allocated stream: zlib's state points back at its `z_stream`, which must not
    /// move. Used by one thread at a time: the pool hands it out under its lock.
    final class Stream: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<z_stream>
        let inflating: Bool

        init?(inflating: Bool, format: MessageCompression.Format) {
            pointer = .allocate(capacity: 1)
            pointer.initialize(to: z_stream())
            self.inflating = inflating
            let size = Int32(MemoryLayout<z_stream>.size)
            let rc = inflating
                ? inflateInit2_(pointer, format.windowBits, ZLIB_VERSION, size)
                : deflateInit2_(pointer, Z_DEFAULT_COMPRESSION, Z_DEFLATED, format.windowBits, 8, Z_DEFAULT_STRATEGY,
                                ZLIB_VERSION, size)
            guard rc == Z_OK else {
                pointer.deallocate()
                return nil
            }
        }

        deinit {
            if inflating { inflateEnd(pointer) } else { deflateEnd(pointer) }
            pointer.deinitialize(count: 1)
            pointer.deallocate()
        }

        /// Ready for the next message, its allocations kept.
        func reset() -> Bool {
            (inflating ? inflateReset(pointer) : deflateReset(pointer)) == Z_OK
        }
    }

    private struct Key: Hashable {
        var inflating: Bool
        var gzip: Bool
    }

    /// Streams kept per kind at most (about 256 KiB each for deflate, 44 KiB for inflate).
    static let keptPerKind = 8
    private static let idle = NIOLockedValueBox<[Key: [Stream]]>([:])

    /// Runs `body` with a stream of the kind asked for; nil when zlib cannot make one.
    static func with<R>(inflating: Bool, format: MessageCompression.Format,
                        _ body: (UnsafeMutablePointer<z_stream>) throws(WireError) -> R) throws(WireError) -> R? {
        let key = Key(inflating: inflating, gzip: format == .gzip)
        guard let stream = idle.withLockedValue({ $0[key]?.popLast() }) ?? Stream(inflating: inflating, format: format)
        else { return nil }
        defer {
            if stream.reset() {
                idle.withLockedValue { idle in
                    if idle[key, default: []].count < keptPerKind { idle[key, default: []].append(stream) }
                }
            }
        }
        return try body(stream.pointer)
    }
}
