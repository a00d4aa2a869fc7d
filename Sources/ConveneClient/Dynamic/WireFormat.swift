import SwiftProtobuf

/// Reads protobuf's wire format.
struct WireReader {
    var bytes: ArraySlice<UInt8>
    var atEnd: Bool { bytes.isEmpty }

    mutating func varint() throws(DynamicCodecError) -> UInt64 {
        var result: UInt64 = 0, shift: UInt64 = 0
        while let byte = bytes.popFirst() {
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { break }
        }
        throw DynamicCodecError("malformed varint")
    }

    mutating func tag() throws(DynamicCodecError) -> (UInt32, UInt32) {
        let key = try varint()
        return (UInt32(truncatingIfNeeded: key >> 3), UInt32(key & 7))
    }

    mutating func take(_ count: Int) throws(DynamicCodecError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count >= count else { throw DynamicCodecError("truncated message") }
        let slice = bytes.prefix(count)
        bytes = bytes.dropFirst(count)
        return slice
    }

    mutating func lengthDelimited() throws(DynamicCodecError) -> ArraySlice<UInt8> {
        let length = try varint()
        guard length <= UInt64(bytes.count) else { throw DynamicCodecError("truncated message") }
        return try take(Int(length))
    }

    /// A length-delimited value of the named field.
    mutating func lengthDelimited(field: String) throws(DynamicCodecError) -> ArraySlice<UInt8> {
        do { return try lengthDelimited() } catch { throw DynamicCodecError("\(field): \(error.description)") }
    }
    mutating func fixed32() throws(DynamicCodecError) -> UInt32 { try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func fixed64() throws(DynamicCodecError) -> UInt64 { try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }

    mutating func varintOrSkip(_ wire: UInt32) throws(DynamicCodecError) -> UInt64? {
        if wire == 0 { return try varint() }
        try skip(wire)
        return nil
    }

    mutating func skip(_ wire: UInt32, depth: Int = 0) throws(DynamicCodecError) {
        guard depth < DynamicCodec.maxDepth else { throw DynamicCodecError("groups nested more than \(DynamicCodec.maxDepth) deep") }
        switch wire {
        case 0: _ = try varint()
        case 1: _ = try take(8)
        case 2: _ = try lengthDelimited()
        case 5: _ = try take(4)
        case 3:
            // A group: skip to its end tag, fields of any kind in between.
            while true {
                let (_, inner) = try tag()
                if inner == 4 { return }
                try skip(inner, depth: depth + 1)
            }
        default: throw DynamicCodecError("unsupported wire type \(wire)")
        }
    }
}

/// Writes protobuf's wire format.
struct WireWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ number: UInt32, _ wire: UInt32) { varint(UInt64(number) << 3 | UInt64(wire)) }
    mutating func lengthDelimited(_ data: [UInt8]) { varint(UInt64(data.count)); bytes.append(contentsOf: data) }
    mutating func fixed32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func fixed64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
}
