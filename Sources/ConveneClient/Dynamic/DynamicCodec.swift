import Foundation
import SwiftProtobuf

/// Converts between protobuf's binary format and its JSON mapping for any message the pool
/// describes: what `convene call` needs to call a method it was not compiled with.
///
/// Covers scalars, strings, bytes (base64), enums (by name), nested messages, repeated
/// fields (packed or not), maps, and google.protobuf.Timestamp (RFC 3339).
public struct DynamicCodec: Sendable {
    public let pool: DescriptorPool

    public init(pool: DescriptorPool) { self.pool = pool }

    typealias Field = Google_Protobuf_FieldDescriptorProto

    // MARK: binary -> JSON

    public func json(from bytes: [UInt8], type: String) throws -> Any {
        var reader = WireReader(bytes: bytes[...])
        return try decodeMessage(&reader, type: type)
    }

    func decodeMessage(_ reader: inout WireReader, type: String) throws -> Any {
        let key = DescriptorPool.key(type)
        if key == "google.protobuf.Timestamp" {
            var seconds: Int64 = 0, nanos: Int64 = 0
            while !reader.atEnd {
                let (number, wire) = try reader.tag()
                let value = try reader.varintOrSkip(wire)
                if number == 1 { seconds = Int64(bitPattern: value ?? 0) } else if number == 2 { nanos = Int64(bitPattern: value ?? 0) }
            }
            // As protobuf's JSON mapping writes it: fractional digits only when there are nanos.
            let date = Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9)
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = nanos == 0 ? [.withInternetDateTime] : [.withInternetDateTime, .withFractionalSeconds]
            return formatter.string(from: date)
        }
        let message = try pool.message(key)
        var object: [String: Any] = [:]
        while !reader.atEnd {
            let (number, wire) = try reader.tag()
            guard let field = message.field.first(where: { $0.number == number }) else {
                try reader.skip(wire)
                continue
            }
            let name = field.jsonName.isEmpty ? field.name : field.jsonName
            if field.label == .repeated {
                if isMap(field) {
                    var map = object[name] as? [String: Any] ?? [:]
                    var sub = WireReader(bytes: try reader.lengthDelimited())
                    let entry = try pool.message(field.typeName)
                    var k: Any = "", v: Any = NSNull()
                    while !sub.atEnd {
                        let (n, w) = try sub.tag()
                        if let f = entry.field.first(where: { $0.number == n }) {
                            let value = try decodeValue(&sub, field: f, wire: w)
                            if n == 1 { k = value } else { v = value }
                        } else { try sub.skip(w) }
                    }
                    map["\(k)"] = v
                    object[name] = map
                } else {
                    var list = object[name] as? [Any] ?? []
                    if wire == 2 && isPackable(field) {
                        var sub = WireReader(bytes: try reader.lengthDelimited())
                        while !sub.atEnd { list.append(try decodeValue(&sub, field: field, wire: packedWire(field))) }
                    } else {
                        list.append(try decodeValue(&reader, field: field, wire: wire))
                    }
                    object[name] = list
                }
            } else {
                object[name] = try decodeValue(&reader, field: field, wire: wire)
            }
        }
        return object
    }

    func decodeValue(_ reader: inout WireReader, field: Field, wire: UInt32) throws -> Any {
        switch field.type {
        case .message, .group:
            var sub = WireReader(bytes: try reader.lengthDelimited())
            return try decodeMessage(&sub, type: field.typeName)
        case .string: return String(decoding: try reader.lengthDelimited(), as: UTF8.self)
        case .bytes: return Data(try reader.lengthDelimited()).base64EncodedString()
        case .bool: return try reader.varint() != 0
        case .int32: return Int32(truncatingIfNeeded: Int64(bitPattern: try reader.varint()))
        case .uint32: return UInt32(truncatingIfNeeded: try reader.varint())
        case .sint32: return Int32(truncatingIfNeeded: zigzag(try reader.varint()))
        case .int64: return String(Int64(bitPattern: try reader.varint()))
        case .uint64: return String(try reader.varint())
        case .sint64: return String(zigzag(try reader.varint()))
        case .fixed32: return try reader.fixed32()
        case .sfixed32: return Int32(bitPattern: try reader.fixed32())
        case .float: return Float(bitPattern: try reader.fixed32())
        case .fixed64: return String(try reader.fixed64())
        case .sfixed64: return String(Int64(bitPattern: try reader.fixed64()))
        case .double: return Double(bitPattern: try reader.fixed64())
        case .enum:
            let number = Int32(truncatingIfNeeded: Int64(bitPattern: try reader.varint()))
            let values = pool.enums[DescriptorPool.key(field.typeName)]?.value ?? []
            return values.first { $0.number == number }?.name ?? Int(number) as Any
        }
    }

    // MARK: JSON -> binary

    public func binary(from json: Any, type: String) throws -> [UInt8] {
        var writer = WireWriter()
        try encodeMessage(json, type: type, into: &writer)
        return writer.bytes
    }

    func encodeMessage(_ json: Any, type: String, into writer: inout WireWriter) throws {
        let key = DescriptorPool.key(type)
        if key == "google.protobuf.Timestamp" {
            guard let text = json as? String else { throw DynamicCodecError("a Timestamp is an RFC 3339 string") }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let plain = ISO8601DateFormatter()
            guard let date = formatter.date(from: text) ?? plain.date(from: text) else {
                throw DynamicCodecError("'\(text)' is not an RFC 3339 time")
            }
            let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
            writer.tag(1, 0); writer.varint(UInt64(bitPattern: seconds))
            let nanos = Int64(((date.timeIntervalSince1970 - Double(seconds)) * 1e9).rounded())
            if nanos != 0 { writer.tag(2, 0); writer.varint(UInt64(bitPattern: nanos)) }
            return
        }
        let message = try pool.message(key)
        guard let object = json as? [String: Any] else { throw DynamicCodecError("\(key) must be a JSON object") }
        for (name, value) in object {
            guard let field = message.field.first(where: { $0.jsonName == name || $0.name == name }) else {
                throw DynamicCodecError("\(key) has no field '\(name)'")
            }
            if value is NSNull { continue }
            if field.label == .repeated {
                if isMap(field) {
                    guard let map = value as? [String: Any] else { throw DynamicCodecError("\(name) must be a JSON object") }
                    let entry = try pool.message(field.typeName)
                    for (k, v) in map {
                        var sub = WireWriter()
                        try encodeValue(k, field: entry.field.first { $0.number == 1 }!, into: &sub, name: name)
                        try encodeValue(v, field: entry.field.first { $0.number == 2 }!, into: &sub, name: name)
                        writer.tag(UInt32(field.number), 2)
                        writer.lengthDelimited(sub.bytes)
                    }
                } else {
                    guard let list = value as? [Any] else { throw DynamicCodecError("\(name) must be a JSON array") }
                    for item in list { try encodeValue(item, field: field, into: &writer, name: name) }
                }
            } else {
                try encodeValue(value, field: field, into: &writer, name: name)
            }
        }
    }

    func encodeValue(_ value: Any, field: Field, into writer: inout WireWriter, name: String) throws {
        let number = UInt32(field.number)
        func integer() throws -> Int64 {
            if let n = value as? NSNumber, !(value is Bool) { return n.int64Value }
            if let s = value as? String, let n = Int64(s) { return n }
            throw DynamicCodecError("\(name) must be an integer")
        }
        func unsigned() throws -> UInt64 {
            if let n = value as? NSNumber, !(value is Bool) { return n.uint64Value }
            if let s = value as? String, let n = UInt64(s) { return n }
            throw DynamicCodecError("\(name) must be a non-negative integer")
        }
        func real() throws -> Double {
            if let n = value as? NSNumber { return n.doubleValue }
            if let s = value as? String, let n = Double(s) { return n }
            throw DynamicCodecError("\(name) must be a number")
        }
        switch field.type {
        case .message, .group:
            var sub = WireWriter()
            try encodeMessage(value, type: field.typeName, into: &sub)
            writer.tag(number, 2); writer.lengthDelimited(sub.bytes)
        case .string:
            guard let s = value as? String else { throw DynamicCodecError("\(name) must be a string") }
            writer.tag(number, 2); writer.lengthDelimited(Array(s.utf8))
        case .bytes:
            guard let s = value as? String, let data = Data(base64Encoded: s) else { throw DynamicCodecError("\(name) must be base64") }
            writer.tag(number, 2); writer.lengthDelimited(Array(data))
        case .bool:
            guard let b = value as? Bool else { throw DynamicCodecError("\(name) must be true or false") }
            writer.tag(number, 0); writer.varint(b ? 1 : 0)
        case .int32, .int64: writer.tag(number, 0); writer.varint(UInt64(bitPattern: try integer()))
        case .uint32, .uint64: writer.tag(number, 0); writer.varint(try unsigned())
        case .sint32, .sint64:
            let n = try integer()
            writer.tag(number, 0); writer.varint(UInt64(bitPattern: (n << 1) ^ (n >> 63)))
        case .fixed32: writer.tag(number, 5); writer.fixed32(UInt32(truncatingIfNeeded: try unsigned()))
        case .sfixed32: writer.tag(number, 5); writer.fixed32(UInt32(bitPattern: Int32(truncatingIfNeeded: try integer())))
        case .float: writer.tag(number, 5); writer.fixed32(Float(try real()).bitPattern)
        case .fixed64: writer.tag(number, 1); writer.fixed64(try unsigned())
        case .sfixed64: writer.tag(number, 1); writer.fixed64(UInt64(bitPattern: try integer()))
        case .double: writer.tag(number, 1); writer.fixed64(try real().bitPattern)
        case .enum:
            let values = pool.enums[DescriptorPool.key(field.typeName)]?.value ?? []
            let enumNumber: Int32
            if let s = value as? String {
                guard let found = values.first(where: { $0.name == s }) else {
                    throw DynamicCodecError("\(name): '\(s)' is not one of \(values.map(\.name).joined(separator: ", "))")
                }
                enumNumber = found.number
            } else {
                enumNumber = Int32(truncatingIfNeeded: try integer())
            }
            writer.tag(number, 0); writer.varint(UInt64(bitPattern: Int64(enumNumber)))
        }
    }

    // MARK: helpers

    func isMap(_ field: Field) -> Bool {
        field.type == .message && (pool.messages[DescriptorPool.key(field.typeName)]?.options.mapEntry ?? false)
    }

    func isPackable(_ field: Field) -> Bool {
        ![.string, .bytes, .message, .group].contains(field.type)
    }

    func packedWire(_ field: Field) -> UInt32 {
        switch field.type {
        case .fixed32, .sfixed32, .float: 5
        case .fixed64, .sfixed64, .double: 1
        default: 0
        }
    }

    func zigzag(_ n: UInt64) -> Int64 { Int64(bitPattern: n >> 1) ^ -Int64(bitPattern: n & 1) }
}

/// Reads protobuf's wire format.
struct WireReader {
    var bytes: ArraySlice<UInt8>
    var atEnd: Bool { bytes.isEmpty }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0, shift: UInt64 = 0
        while let byte = bytes.popFirst() {
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { break }
        }
        throw DynamicCodecError("malformed varint")
    }

    mutating func tag() throws -> (UInt32, UInt32) {
        let key = try varint()
        return (UInt32(truncatingIfNeeded: key >> 3), UInt32(key & 7))
    }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count >= count else { throw DynamicCodecError("truncated message") }
        let slice = bytes.prefix(count)
        bytes = bytes.dropFirst(count)
        return slice
    }

    mutating func lengthDelimited() throws -> ArraySlice<UInt8> { try take(Int(try varint())) }
    mutating func fixed32() throws -> UInt32 { try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func fixed64() throws -> UInt64 { try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }

    mutating func varintOrSkip(_ wire: UInt32) throws -> UInt64? {
        if wire == 0 { return try varint() }
        try skip(wire)
        return nil
    }

    mutating func skip(_ wire: UInt32) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: _ = try take(8)
        case 2: _ = try lengthDelimited()
        case 5: _ = try take(4)
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
