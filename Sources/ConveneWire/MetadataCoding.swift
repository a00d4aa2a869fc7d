import NIOCore

/// Metadata block layout (inside CALL, HEADERS and END):
///
/// ```
/// +---------------+
/// |  count (16)   |  then `count` entries:
/// +-------+-------+-------+---------------+---------------+
/// |klen(8)| key (klen bytes) | vlen (16)  | value (vlen bytes)
/// +-------+------------------+------------+---------------+
/// ```
extension ByteBuffer {
    /// Writes a metadata block; returns the number of bytes written.
    @discardableResult
    public mutating func writeMetadataBlock(_ metadata: Metadata) -> Int {
        let start = writerIndex
        writeInteger(UInt16(truncatingIfNeeded: metadata.count))
        for entry in metadata {
            let keyLength = entry.key.utf8.count
            writeInteger(UInt8(truncatingIfNeeded: keyLength))
            writeString(entry.key)
            switch entry.value {
            case .string(let s):
                writeInteger(UInt16(truncatingIfNeeded: s.utf8.count))
                writeString(s)
            case .binary(let b):
                writeInteger(UInt16(truncatingIfNeeded: b.count))
                writeBytes(b)
            }
        }
        return writerIndex - start
    }

    /// Reads a metadata block, enforcing `limit` on its encoded size and the rules of `Metadata.validate`.
    mutating func readMetadataBlock(limit: UInt32, in type: FrameType) throws(WireError) -> Metadata {
        let start = readerIndex
        guard let count = readInteger(as: UInt16.self) else {
            throw .malformed(type, "metadata block truncated before its count")
        }
        var metadata = Metadata()
        for _ in 0..<count {
            guard let keyLength = readInteger(as: UInt8.self),
                  let key = readString(length: Int(keyLength)),
                  let valueLength = readInteger(as: UInt16.self)
            else { throw .malformed(type, "metadata entry truncated") }
            if readerIndex - start + Int(valueLength) > Int(limit) {
                throw .metadataTooLarge(size: readerIndex - start + Int(valueLength), limit: limit)
            }
            let value: Metadata.Value
            if key.hasSuffix("-bin"), let bytes = readBytes(length: Int(valueLength)) {
                value = .binary(bytes)
            } else if !key.hasSuffix("-bin"), let string = readString(length: Int(valueLength)) {
                value = .string(string)
            } else {
                throw .malformed(type, "metadata value of '\(key)' truncated")
            }
            if let why = Metadata.validate(key: key, value: value) { throw .malformed(type, why) }
            metadata.add(key, value: value)
        }
        if readerIndex - start > Int(limit) {
            throw .metadataTooLarge(size: readerIndex - start, limit: limit)
        }
        return metadata
    }
}

extension Metadata {
    /// Size of the encoded block, as counted against MAX_METADATA_SIZE.
    public var encodedSize: Int {
        var size = 2
        for entry in self {
            size += 1 + entry.key.utf8.count + 2
            switch entry.value {
            case .string(let s): size += s.utf8.count
            case .binary(let b): size += b.count
            }
        }
        return size
    }
}
