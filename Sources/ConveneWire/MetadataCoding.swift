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

    /// Reads a metadata block, enforcing `limit` on its size as `Metadata.countedSize` counts
    /// it (encoded bytes plus `Metadata.entryOverhead` per entry, checked as it is read), at
    /// most `Metadata.maxEntries` entries, and the rules of `Metadata.validate`.
    mutating func readMetadataBlock(limit: UInt32, in type: FrameType) throws(WireError) -> Metadata {
        let start = readerIndex
        guard let count = readInteger(as: UInt16.self) else {
            throw .malformed(type, "metadata block truncated before its count")
        }
        guard count <= Metadata.maxEntries else { throw .tooManyMetadataEntries(Int(count), limit: Metadata.maxEntries) }
        var metadata = Metadata()
        var overhead = 0
        for _ in 0..<count {
            overhead += Metadata.entryOverhead
            guard let keyLength = readInteger(as: UInt8.self),
                  let key = readString(length: Int(keyLength)),
                  let valueLength = readInteger(as: UInt16.self)
            else { throw .malformed(type, "metadata entry truncated") }
            let counted = readerIndex - start + Int(valueLength) + overhead
            if counted > Int(limit) { throw .metadataTooLarge(size: counted, limit: limit) }
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
        if readerIndex - start + overhead > Int(limit) {
            throw .metadataTooLarge(size: readerIndex - start + overhead, limit: limit)
        }
        return metadata
    }
}

extension Metadata {
    /// What each entry counts against MAX_METADATA_SIZE beyond its bytes: about what an entry
    /// costs the receiver in memory (HTTP/2 counts header lists the same way).
    public static let entryOverhead = 32
    /// Entries one block may hold, whatever MAX_METADATA_SIZE allows.
    public static let maxEntries: UInt16 = 1024

    /// The size counted against MAX_METADATA_SIZE: the encoded block plus `entryOverhead` per entry.
    public var countedSize: Int { encodedSize + Self.entryOverhead * count }

    /// Size of the encoded block.
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
