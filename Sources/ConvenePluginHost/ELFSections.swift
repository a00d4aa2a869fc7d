/// Section names of an ELF64 little-endian file (empty when it is not one), read through
/// `read(offset, count)` (nil when those bytes are not there): the header, the section table
/// and the table of names, each checked to lie within the file's `size` before it is read.
enum ELFSections {
    static func names(size: Int, read: (_ offset: Int, _ count: Int) -> [UInt8]?) -> [String] {
        guard size >= 64, let header = read(0, 64), header.starts(with: [0x7F, 0x45, 0x4C, 0x46, 2, 1]) else { return [] }
        let tableOffset = value(header, 0x28, UInt64.self), entrySize = Int(value(header, 0x3A, UInt16.self))
        let count = Int(value(header, 0x3C, UInt16.self)), namesIndex = Int(value(header, 0x3E, UInt16.self))
        guard entrySize >= 64, namesIndex < count, tableOffset <= UInt64(size),
              count * entrySize <= size - Int(tableOffset),
              let table = read(Int(tableOffset), count * entrySize)
        else { return [] }
        func section(_ index: Int) -> (name: Int, offset: UInt64, size: UInt64) {
            let base = index * entrySize
            return (Int(value(table, base, UInt32.self)), value(table, base + 0x18, UInt64.self),
                    value(table, base + 0x20, UInt64.self))
        }
        let strings = section(namesIndex)
        guard strings.offset <= UInt64(size), strings.size <= UInt64(size) - strings.offset,
              let text = read(Int(strings.offset), Int(strings.size))
        else { return [] }
        return (0..<count).compactMap { index in
            let start = section(index).name
            guard start < text.count else { return nil }
            let end = text[start...].firstIndex(of: 0) ?? text.count
            return String(decoding: text[start..<end], as: UTF8.self)
        }
    }

    /// The little-endian integer at `offset` of `bytes` (the caller checked it lies within).
    private static func value<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, _: T.Type) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
