#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The method paths a connection's CALL frames named last, so that a path called again is
/// decoded to the `String` made the first time instead of a new one: a path past 15 bytes
/// (nearly every method's) would otherwise cost an allocation per call.
///
/// Bounded whatever the peer sends: at most `capacity` paths of at most `maxPathBytes`
/// bytes each are kept (a longer path is decoded but not kept); when full, a new path
/// replaces the oldest. A path is reused only when its bytes are exactly the kept path's
/// UTF-8, so what is decoded is always what `readString` would have made of the bytes.
///
/// It also keeps the last CALL's metadata block (`RecentMetadata`): what a connection's
/// calls repeat from one to the next.
public struct RecentPaths: Sendable {
    /// Longest path kept, in bytes.
    public static let maxPathBytes = 128

    @usableFromInline var paths: [String] = []
    @usableFromInline var oldest = 0
    @usableFromInline let capacity: Int
    /// The last CALL's metadata block.
    public var metadata: RecentMetadata

    /// Keeps up to `capacity` paths (0: none, every path is decoded afresh, and no metadata is kept).
    public init(capacity: Int = 8) {
        self.capacity = max(0, capacity)
        self.metadata = RecentMetadata(enabled: capacity > 0)
    }

    /// The path of `length` bytes at the front of `payload`, consuming them; nil when
    /// fewer bytes remain.
    @inlinable
    public mutating func readPath(from payload: inout ByteBuffer, length: Int) -> String? {
        guard capacity > 0, length > 15, length <= Self.maxPathBytes else {
            return payload.readString(length: length)  // none kept, or a small string: no allocation
        }
        guard let kept = payload.withUnsafeReadableBytes({ bytes in
            bytes.count < length ? nil : paths.first { path in
                path.utf8.count == length && Self.sameBytes(path, bytes.baseAddress!, length)
            }
        }) else {
            guard let path = payload.readString(length: length) else { return nil }
            keep(path)
            return path
        }
        payload.moveReaderIndex(forwardBy: length)
        return kept
    }

    /// Whether `path`'s UTF-8 is the `length` bytes at `bytes`: one memcmp over the string's
    /// contiguous storage (a byte-by-byte iteration cost a few percent of a call's CPU).
    @inlinable
    static func sameBytes(_ path: String, _ bytes: UnsafeRawPointer, _ length: Int) -> Bool {
        path.utf8.withContiguousStorageIfAvailable { utf8 in
            memcmp(utf8.baseAddress!, bytes, length) == 0
        } ?? path.utf8.elementsEqual(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    @usableFromInline
    mutating func keep(_ path: String) {
        if paths.count < capacity {
            if paths.isEmpty { paths.reserveCapacity(capacity) }
            paths.append(path)
        } else {
            paths[oldest] = path
            oldest = (oldest + 1) % capacity
        }
    }
}
