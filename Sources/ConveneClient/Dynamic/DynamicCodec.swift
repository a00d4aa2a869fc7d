import Foundation
import SwiftProtobuf

/// Converts between protobuf's binary format and its JSON mapping (proto3's, exactly as
/// protobuf specifies it) for any message the pool describes: what `convene call` needs to
/// call a method it was not compiled with, a plugin's included.
///
/// Every scalar type (64-bit integers as strings, floats with NaN and ±Infinity, bytes in
/// base64), enums by name, nested messages, repeated fields (packed or not), maps, oneofs,
/// field presence, and the well-known types: Timestamp, Duration, the wrappers, Struct,
/// Value, ListValue, NullValue, FieldMask, Empty and Any.
public struct DynamicCodec: Sendable {
    public let pool: DescriptorPool

    public init(pool: DescriptorPool) { self.pool = pool }

    typealias Field = Google_Protobuf_FieldDescriptorProto

    // MARK: - Binary to JSON

    public func json(from bytes: [UInt8], type: String) throws(DynamicCodecError) -> JSONValue {
        try decodeMessage(bytes[...], type: type, depth: 0)
    }

    /// Nesting beyond this is refused: the bytes come from a server or a plugin.
    static let maxDepth = 100

    func decodeMessage(_ bytes: ArraySlice<UInt8>, type: String, depth: Int) throws(DynamicCodecError) -> JSONValue {
        guard depth < Self.maxDepth else { throw DynamicCodecError("message nested more than \(Self.maxDepth) deep") }
        let key = DescriptorPool.key(type)
        if let known = WellKnownType(rawValue: key) { return try decodeWellKnown(known, bytes, depth: depth) }
        let message = try pool.message(key)
        var reader = WireReader(bytes: bytes)
        var scalars: [Int32: (value: JSONValue, isDefault: Bool)] = [:]
        var lists: [Int32: [JSONValue]] = [:]
        var maps: [Int32: [(key: String, value: JSONValue)]] = [:]
        var submessages: [Int32: [UInt8]] = [:]  // occurrences of one field merge: their bytes concatenate
        var oneofs: [Int32: Int32] = [:]         // oneof index -> the member set last
        while !reader.atEnd {
            let (number, wire) = try reader.tag()
            guard let field = message.field.first(where: { $0.number == Int32(bitPattern: number) }) else {
                try reader.skip(wire)
                continue
            }
            if field.hasOneofIndex {
                if let previous = oneofs[field.oneofIndex], previous != field.number {
                    scalars[previous] = nil
                    submessages[previous] = nil
                }
                oneofs[field.oneofIndex] = field.number
            }
            if field.label == .repeated, pool.isMapEntry(field.typeName) {
                let entry = try decodeMapEntry(try reader.lengthDelimited(field: field.name), field: field, depth: depth)
                var map = maps[field.number, default: []]
                map.removeAll { $0.key == entry.key }
                map.append(entry)
                maps[field.number] = map
            } else if field.label == .repeated {
                if wire == 2, isPackable(field) {
                    var packed = WireReader(bytes: try reader.lengthDelimited(field: field.name))
                    while !packed.atEnd { lists[field.number, default: []].append(try decodeScalar(&packed, field: field, wire: packedWire(field)).value) }
                } else if field.type == .message || field.type == .group {
                    lists[field.number, default: []].append(try decodeMessage(try reader.lengthDelimited(field: field.name),
                                                                              type: field.typeName, depth: depth + 1))
                } else {
                    lists[field.number, default: []].append(try decodeScalar(&reader, field: field, wire: wire).value)
                }
            } else if field.type == .message || field.type == .group {
                submessages[field.number, default: []].append(contentsOf: try reader.lengthDelimited(field: field.name))
            } else {
                scalars[field.number] = try decodeScalar(&reader, field: field, wire: wire)
            }
        }
        var members: [(key: String, value: JSONValue)] = []
        for field in message.field {
            let name = jsonName(field)
            if let map = maps[field.number], !map.isEmpty {
                members.append((name, .object(map)))
            } else if let list = lists[field.number], !list.isEmpty {
                members.append((name, .array(list)))
            } else if let bytes = submessages[field.number] {
                members.append((name, try decodeMessage(bytes[...], type: field.typeName, depth: depth + 1)))
            } else if let scalar = scalars[field.number], !scalar.isDefault || pool.hasPresence(field, in: key) {
                members.append((name, scalar.value))
            }
        }
        return .object(members)
    }

    func decodeMapEntry(_ bytes: ArraySlice<UInt8>, field: Field, depth: Int) throws(DynamicCodecError) -> (key: String, value: JSONValue) {
        let entry = try pool.message(field.typeName)
        guard let keyField = entry.field.first(where: { $0.number == 1 }),
              let valueField = entry.field.first(where: { $0.number == 2 }) else {
            throw DynamicCodecError("map entry \(field.typeName) lacks its key or value field")
        }
        var reader = WireReader(bytes: bytes)
        var key: JSONValue?, value: JSONValue?
        while !reader.atEnd {
            let (number, wire) = try reader.tag()
            switch number {
            case 1: key = try decodeScalar(&reader, field: keyField, wire: wire).value
            case 2:
                if valueField.type == .message {
                    value = try decodeMessage(try reader.lengthDelimited(field: field.name), type: valueField.typeName, depth: depth + 1)
                } else {
                    value = try decodeScalar(&reader, field: valueField, wire: wire).value
                }
            default: try reader.skip(wire)
            }
        }
        // A missing key or value is its type's default.
        let keyText: String
        switch key ?? defaultValue(keyField) {
        case .string(let s): keyText = s
        case .number(let n): keyText = n
        case .bool(let b): keyText = b ? "true" : "false"
        default: throw DynamicCodecError("map \(field.name) has a key of a type maps cannot have")
        }
        if let value { return (keyText, value) }
        if valueField.type == .message {
            return (keyText, try decodeMessage([], type: valueField.typeName, depth: depth + 1))
        }
        return (keyText, defaultValue(valueField))
    }

    /// One scalar (or enum) value, and whether it is its type's default.
    func decodeScalar(_ reader: inout WireReader, field: Field, wire: UInt32) throws(DynamicCodecError) -> (value: JSONValue, isDefault: Bool) {
        guard wire == expectedWire(field) else {
            throw DynamicCodecError("field \(field.name) (\(field.type)) arrived with wire type \(wire)")
        }
        switch field.type {
        case .string:
            let bytes = try reader.lengthDelimited(field: field.name)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw DynamicCodecError("field \(field.name) is not valid UTF-8")
            }
            return (.string(text), text.isEmpty)
        case .bytes:
            let bytes = try reader.lengthDelimited(field: field.name)
            return (.string(Data(bytes).base64EncodedString()), bytes.isEmpty)
        case .bool:
            let v = try reader.varint()
            return (.bool(v != 0), v == 0)
        case .int32:
            let v = Int32(truncatingIfNeeded: try reader.varint())
            return (.number(v), v == 0)
        case .sint32:
            let v = Int32(truncatingIfNeeded: zigzag(try reader.varint()))
            return (.number(v), v == 0)
        case .uint32:
            let v = UInt32(truncatingIfNeeded: try reader.varint())
            return (.number(v), v == 0)
        case .int64:
            let v = Int64(bitPattern: try reader.varint())
            return (.string(String(v)), v == 0)
        case .sint64:
            let v = zigzag(try reader.varint())
            return (.string(String(v)), v == 0)
        case .uint64:
            let v = try reader.varint()
            return (.string(String(v)), v == 0)
        case .fixed32:
            let v = try reader.fixed32()
            return (.number(v), v == 0)
        case .sfixed32:
            let v = Int32(bitPattern: try reader.fixed32())
            return (.number(v), v == 0)
        case .fixed64:
            let v = try reader.fixed64()
            return (.string(String(v)), v == 0)
        case .sfixed64:
            let v = Int64(bitPattern: try reader.fixed64())
            return (.string(String(v)), v == 0)
        case .float:
            let v = Float(bitPattern: try reader.fixed32())
            return (JSONNumbers.json(Double(v), float: true), v == 0 && v.sign == .plus)
        case .double:
            let v = Double(bitPattern: try reader.fixed64())
            return (JSONNumbers.json(v, float: false), v == 0 && v.sign == .plus)
        case .enum:
            let number = Int32(truncatingIfNeeded: try reader.varint())
            if DescriptorPool.key(field.typeName) == WellKnownType.nullValue.rawValue { return (.null, true) }
            let values = pool.enums[DescriptorPool.key(field.typeName)]?.value ?? []
            let name = values.first { $0.number == number }?.name
            return (name.map(JSONValue.string) ?? .number(number), number == 0)
        case .message, .group:
            throw DynamicCodecError("field \(field.name) is a message, not a scalar")
        }
    }

    /// The JSON of a scalar field's default, for a map entry that left it out.
    func defaultValue(_ field: Field) -> JSONValue {
        switch field.type {
        case .string, .bytes: .string("")
        case .bool: .bool(false)
        case .int64, .sint64, .uint64, .fixed64, .sfixed64: .string("0")
        case .enum:
            pool.enums[DescriptorPool.key(field.typeName)]?.value.first { $0.number == 0 }.map { .string($0.name) } ?? .number("0")
        default: .number("0")
        }
    }

    // MARK: - JSON to binary

    public func binary(from json: JSONValue, type: String) throws(DynamicCodecError) -> [UInt8] {
        var writer = WireWriter()
        try encodeMessage(json, type: type, into: &writer, depth: 0)
        return writer.bytes
    }

    func encodeMessage(_ json: JSONValue, type: String, into writer: inout WireWriter, depth: Int) throws(DynamicCodecError) {
        guard depth < Self.maxDepth else { throw DynamicCodecError("JSON nested more than \(Self.maxDepth) deep") }
        let key = DescriptorPool.key(type)
        if let known = WellKnownType(rawValue: key) { return try encodeWellKnown(known, json, into: &writer, depth: depth) }
        let message = try pool.message(key)
        guard case .object(let members) = json else { throw DynamicCodecError("\(key) must be a JSON object") }
        var oneofs: [Int32: String] = [:]
        for (name, value) in members {
            guard let field = message.field.first(where: { jsonName($0) == name || $0.name == name }) else {
                throw DynamicCodecError("\(key) has no field '\(name)'")
            }
            let isValueMessage = field.type == .message && DescriptorPool.key(field.typeName) == WellKnownType.value.rawValue
            if value == .null, !(isValueMessage && field.label != .repeated),
               DescriptorPool.key(field.typeName) != WellKnownType.nullValue.rawValue {
                continue  // null: the field keeps its default
            }
            if field.hasOneofIndex {
                if let other = oneofs[field.oneofIndex] {
                    throw DynamicCodecError("\(key): '\(other)' and '\(name)' are members of one oneof; give at most one")
                }
                oneofs[field.oneofIndex] = name
            }
            if field.label == .repeated, pool.isMapEntry(field.typeName) {
                guard case .object(let entries) = value else { throw DynamicCodecError("\(name) is a map: a JSON object") }
                let entry = try pool.message(field.typeName)
                guard let keyField = entry.field.first(where: { $0.number == 1 }),
                      let valueField = entry.field.first(where: { $0.number == 2 }) else {
                    throw DynamicCodecError("map entry \(field.typeName) lacks its key or value field")
                }
                for (mapKey, mapValue) in entries {
                    var sub = WireWriter()
                    try encodeMapKey(mapKey, field: keyField, into: &sub, name: name)
                    try encodeField(mapValue, field: valueField, into: &sub, name: "\(name)[\(mapKey)]", depth: depth)
                    writer.tag(UInt32(field.number), 2)
                    writer.lengthDelimited(sub.bytes)
                }
            } else if field.label == .repeated {
                guard case .array(let items) = value else { throw DynamicCodecError("\(name) is repeated: a JSON array") }
                for item in items {
                    guard item != .null || isValueMessage else { throw DynamicCodecError("\(name): null is not an element") }
                    try encodeField(item, field: field, into: &writer, name: name, depth: depth)
                }
            } else {
                try encodeField(value, field: field, into: &writer, name: name, depth: depth)
            }
        }
    }

    /// One value of a field (one element of a repeated one), with its tag.
    func encodeField(_ value: JSONValue, field: Field, into writer: inout WireWriter, name: String, depth: Int) throws(DynamicCodecError) {
        let number = UInt32(field.number)
        switch field.type {
        case .message, .group:
            var sub = WireWriter()
            try encodeMessage(value, type: field.typeName, into: &sub, depth: depth + 1)
            writer.tag(number, 2)
            writer.lengthDelimited(sub.bytes)
        default:
            writer.tag(number, expectedWire(field))
            try encodeScalar(value, field: field, into: &writer, name: name)
        }
    }

    /// A scalar's bytes, without its tag.
    func encodeScalar(_ value: JSONValue, field: Field, into writer: inout WireWriter, name: String) throws(DynamicCodecError) {
        switch field.type {
        case .string:
            guard case .string(let s) = value else { throw DynamicCodecError("\(name) must be a string") }
            writer.lengthDelimited(Array(s.utf8))
        case .bytes:
            guard case .string(let s) = value, let bytes = Base64.decode(s) else {
                throw DynamicCodecError("\(name) must be base64 (standard or URL-safe)")
            }
            writer.lengthDelimited(bytes)
        case .bool:
            guard case .bool(let b) = value else { throw DynamicCodecError("\(name) must be true or false") }
            writer.varint(b ? 1 : 0)
        case .int32, .sfixed32, .sint32:
            let v = try JSONNumbers.integer(value, Int32.self, name: name)
            switch field.type {
            case .sfixed32: writer.fixed32(UInt32(bitPattern: v))
            case .sint32: writer.varint(UInt64(UInt32(bitPattern: (v << 1) ^ (v >> 31))))
            default: writer.varint(UInt64(bitPattern: Int64(v)))
            }
        case .uint32, .fixed32:
            let v = try JSONNumbers.integer(value, UInt32.self, name: name)
            if field.type == .fixed32 { writer.fixed32(v) } else { writer.varint(UInt64(v)) }
        case .int64, .sfixed64, .sint64:
            let v = try JSONNumbers.integer(value, Int64.self, name: name)
            switch field.type {
            case .sfixed64: writer.fixed64(UInt64(bitPattern: v))
            case .sint64: writer.varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
            default: writer.varint(UInt64(bitPattern: v))
            }
        case .uint64, .fixed64:
            let v = try JSONNumbers.integer(value, UInt64.self, name: name)
            if field.type == .fixed64 { writer.fixed64(v) } else { writer.varint(v) }
        case .float:
            writer.fixed32(Float(try JSONNumbers.real(value, float: true, name: name)).bitPattern)
        case .double:
            writer.fixed64(try JSONNumbers.real(value, float: false, name: name).bitPattern)
        case .enum:
            writer.varint(UInt64(bitPattern: Int64(try enumNumber(value, field: field, name: name))))
        case .message, .group:
            throw DynamicCodecError("\(name) is a message, not a scalar")
        }
    }

    func enumNumber(_ value: JSONValue, field: Field, name: String) throws(DynamicCodecError) -> Int32 {
        let type = DescriptorPool.key(field.typeName)
        if type == WellKnownType.nullValue.rawValue, value == .null { return 0 }
        if case .string(let s) = value {
            let values = pool.enums[type]?.value ?? []
            guard let found = values.first(where: { $0.name == s }) else {
                throw DynamicCodecError("\(name): '\(s)' is not one of \(values.map(\.name).joined(separator: ", "))")
            }
            return found.number
        }
        return try JSONNumbers.integer(value, Int32.self, name: name)
    }

    /// Map keys are JSON strings whatever their type: "true", "-5".
    func encodeMapKey(_ key: String, field: Field, into writer: inout WireWriter, name: String) throws(DynamicCodecError) {
        let value: JSONValue
        switch field.type {
        case .string: value = .string(key)
        case .bool:
            guard key == "true" || key == "false" else { throw DynamicCodecError("\(name): map key '\(key)' is not true or false") }
            value = .bool(key == "true")
        default: value = .string(key)
        }
        writer.tag(1, expectedWire(field))
        try encodeScalar(value, field: field, into: &writer, name: "\(name) key")
    }

    // MARK: - Helpers

    func jsonName(_ field: Field) -> String {
        field.hasJsonName ? field.jsonName : Self.jsonName(protoName: field.name)
    }

    /// protoc's rule when a descriptor carries no json_name: drop each '_' and capitalize the
    /// letter after it.
    static func jsonName(protoName: String) -> String {
        var out = ""
        var upper = false
        for character in protoName {
            if character == "_" { upper = true; continue }
            out += upper ? character.uppercased() : String(character)
            upper = false
        }
        return out
    }

    func isPackable(_ field: Field) -> Bool {
        ![.string, .bytes, .message, .group].contains(field.type)
    }

    func expectedWire(_ field: Field) -> UInt32 {
        switch field.type {
        case .fixed32, .sfixed32, .float: 5
        case .fixed64, .sfixed64, .double: 1
        case .string, .bytes, .message: 2
        case .group: 3
        default: 0
        }
    }

    func packedWire(_ field: Field) -> UInt32 { expectedWire(field) }

    func zigzag(_ n: UInt64) -> Int64 { Int64(bitPattern: n >> 1) ^ -Int64(bitPattern: n & 1) }
}
