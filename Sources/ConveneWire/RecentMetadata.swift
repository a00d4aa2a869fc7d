#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The metadata block of a connection's last CALL, as bytes and as decoded: a client sends
/// the same block with nearly every call (its credential), and a block whose bytes are
/// exactly the kept one's is the kept `Metadata` again, without decoding, validating or
/// allocating its strings anew.
///
/// Only a block that decoded and validated under the same size limit is kept, and only
/// up to `maxBlockBytes`: what is returned is always what `readMetadataBlock` would have
/// made of the bytes.
public struct RecentMetadata: Sendable {
    /// Largest block kept, in bytes.
    public static let maxBlockBytes = 1024

    private var bytes: [UInt8] = []
    private var metadata = Metadata()
    private var limit: UInt32 = 0
    private let enabled: Bool
    /// How many blocks were the kept one again.
    public private(set) var reused = 0

    public init(enabled: Bool = true) {
        self.enabled = enabled
    }

    /// Reads the metadata block that ends `payload` (a CALL's), consuming it: the kept
    /// `Metadata` when its bytes are the kept block's, else decoded (and then kept).
    public mutating func readBlock(endingPayload payload: inout ByteBuffer, limit: UInt32,
                                   in type: FrameType) throws(WireError) -> Metadata {
        let length = payload.readableBytes
        if enabled, !bytes.isEmpty, length == bytes.count, limit == self.limit,
           payload.withUnsafeReadableBytes({ memcmp($0.baseAddress!, bytes, length) == 0 }) {
            payload.moveReaderIndex(forwardBy: length)
            reused += 1
            return metadata
        }
        let block = payload  // its bytes stay readable here once `payload` has read them
        let decoded = try payload.readMetadataBlock(limit: limit, in: type)
        let used = payload.readerIndex - block.readerIndex
        if enabled, used > 0, used <= Self.maxBlockBytes, let block = block.getBytes(at: block.readerIndex, length: used) {
            bytes = block
            metadata = decoded
            self.limit = limit
        }
        return decoded
    }
}
