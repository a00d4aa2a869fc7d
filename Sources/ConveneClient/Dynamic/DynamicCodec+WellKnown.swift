import Foundation
import SwiftProtobuf

/// The well-known types whose JSON is not that of an ordinary message.
enum WellKnownType: String {
    case timestamp = "google.protobuf.Timestamp"
    case duration = "google.protobuf.Duration"
    case doubleValue = "google.protobuf.DoubleValue"
    case floatValue = "google.protobuf.FloatValue"
    case int64Value = "google.protobuf.Int64Value"
    case uint64Value = "google.protobuf.UInt64Value"
    case int32Value = "google.protobuf.Int32Value"
    case uint32Value = "google.protobuf.UInt32Value"
    case boolValue = "google.protobuf.BoolValue"
    case stringValue = "google.protobuf.StringValue"
    case bytesValue = "google.protobuf.BytesValue"
    case structValue = "google.protobuf.Struct"
    case value = "google.protobuf.Value"
    case listValue = "google.protobuf.ListValue"
    case nullValue = "google.protobuf.NullValue"
    case fieldMask = "google.protobuf.FieldMask"
    case empty = "google.protobuf.Empty"
    case any = "google.protobuf.Any"

    /// A wrapper's `value` field, as a descriptor would describe it.
    var wrapped: Google_Protobuf_FieldDescriptorProto? {
        let type: Google_Protobuf_FieldDescriptorProto.TypeEnum
        switch self {
        case .doubleValue: type = .double
        case .floatValue: type = .float
        case .int64Value: type = .int64
        case .uint64Value: type = .uint64
        case .int32Value: type = .int32
        case .uint32Value: type = .uint32
        case .boolValue: type = .bool
        case .stringValue: type = .string
        case .bytesValue: type = .bytes
        default: return nil
        }
        return .with { $0.name = "value"; $0.number = 1; $0.type = type; $0.label = .optional }
    }
}

extension DynamicCodec {
    // MARK: - Binary to JSON

    func decodeWellKnown(_ type: WellKnownType, _ bytes: ArraySlice<UInt8>, depth: Int) throws(DynamicCodecError) -> JSONValue {
        var reader = WireReader(bytes: bytes)
        switch type {
        case .timestamp, .duration:
            var seconds: Int64 = 0, nanos: Int32 = 0
            while !reader.atEnd {
                let (number, wire) = try reader.tag()
                switch (number, wire) {
                case (1, 0): seconds = Int64(bitPattern: try reader.varint())
                case (2, 0): nanos = Int32(truncatingIfNeeded: try reader.varint())
                default: try reader.skip(wire)
                }
            }
            return .string(try type == .timestamp ? ProtoTime.timestamp(seconds: seconds, nanos: nanos)
                                                  : ProtoTime.duration(seconds: seconds, nanos: nanos))
        case .structValue:
            var members: [(key: String, value: JSONValue)] = []
            while !reader.atEnd {
                let (number, wire) = try reader.tag()
                guard number == 1, wire == 2 else { try reader.skip(wire); continue }
                var entry = WireReader(bytes: try reader.lengthDelimited(field: "fields"))
                var key = "", value = JSONValue.null
                while !entry.atEnd {
                    let (n, w) = try entry.tag()
                    if n == 1, w == 2 { key = String(decoding: try entry.lengthDelimited(), as: UTF8.self) }
                    else if n == 2, w == 2 { value = try decodeWellKnown(.value, try entry.lengthDelimited(), depth: depth + 1) }
                    else { try entry.skip(w) }
                }
                members.removeAll { $0.key == key }
                members.append((key, value))
            }
            return .object(members)
        case .listValue:
            var items: [JSONValue] = []
            while !reader.atEnd {
                let (number, wire) = try reader.tag()
                guard number == 1, wire == 2 else { try reader.skip(wire); continue }
                items.append(try decodeWellKnown(.value, try reader.lengthDelimited(field: "values"), depth: depth + 1))
            }
            return .array(items)
        case .value:
            guard depth < Self.maxDepth else { throw DynamicCodecError("Value nested more than \(Self.maxDepth) deep") }
            var result = JSONValue.null
            while !reader.atEnd {
                let (number, wire) = try reader.tag()
                switch (number, wire) {
                case (1, 0): _ = try reader.varint(); result = .null
                case (2, 1):
                    let v = Double(bitPattern: try reader.fixed64())
                    guard v.isFinite else { throw DynamicCodecError("a Value's number_value must be finite, not \(v)") }
                    result = JSONNumbers.json(v, float: false)
                case (3, 2): result = .string(String(decoding: try reader.lengthDelimited(), as: UTF8.self))
                case (4, 0): result = .bool(try reader.varint() != 0)
                case (5, 2): result = try decodeWellKnown(.structValue, try reader.lengthDelimited(), depth: depth + 1)
                case (6, 2): result = try decodeWellKnown(.listValue, try reader.lengthDelimited(), depth: depth + 1)
                default: try reader.skip(wire)
                }
            }
            return result
        case .nullValue:
            return .null
        case .fieldMask:
            var paths: [String] = []
            while !reader.atEnd {
                let (number, wire) = try reader.tag()
                guard number == 1, wire == 2 else { try reader.skip(wire); continue }
                let path = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
                paths.append(path.split(separator: ".", omittingEmptySubsequences: false)
                    .map { Self.jsonName(protoName: String($0)) }.joined(separator: "."))
            }
            return .string(paths.joined(separator: ","))
        case .empty:
            return .object([])
        case .any:
            var url = "", value: ArraySlice<UInt8> = []
            while !reader.atEnd {
                let (number, wire) = try reader.tag()
                switch (number, wire) {
                case (1, 2): url = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
                case (2, 2): value = try reader.lengthDelimited()
                default: try reader.skip(wire)
                }
            }
            if url.isEmpty, value.isEmpty { return .object([]) }
            let embedded = try decodeMessage(value, type: try anyType(url), depth: depth + 1)
            if WellKnownType(rawValue: try anyType(url)) != nil {
                return .object([("@type", .string(url)), ("value", embedded)])
            }
            guard case .object(let members) = embedded else { throw DynamicCodecError("Any holds a non-object") }
            return .object([("@type", .string(url))] + members)
        default:
            // A wrapper: the JSON of its value, present even when it is the default.
            guard let field = type.wrapped else { throw DynamicCodecError("unhandled well-known type \(type.rawValue)") }
            var result = defaultValue(field)
            while !reader.atEnd {
                let (number, wire) = try reader.tag()
                if number == 1 { result = try decodeScalar(&reader, field: field, wire: wire).value } else { try reader.skip(wire) }
            }
            return result
        }
    }

    /// The message type an Any's URL names ("type.googleapis.com/pkg.Msg" is pkg.Msg).
    func anyType(_ url: String) throws(DynamicCodecError) -> String {
        guard let slash = url.lastIndex(of: "/"), url.index(after: slash) < url.endIndex else {
            throw DynamicCodecError("Any type URL '\(url)' does not end in /package.Message")
        }
        let name = String(url[url.index(after: slash)...])
        guard WellKnownType(rawValue: name) != nil || pool.messages[name] != nil else {
            throw DynamicCodecError("Any holds \(name), which the server did not describe")
        }
        return name
    }

    // MARK: - JSON to binary

    func encodeWellKnown(_ type: WellKnownType, _ json: JSONValue, into writer: inout WireWriter, depth: Int) throws(DynamicCodecError) {
        switch type {
        case .timestamp, .duration:
            guard case .string(let text) = json else {
                throw DynamicCodecError("a \(type == .timestamp ? "Timestamp is an RFC 3339 string" : "Duration is a string like \"1.5s\"")")
            }
            let (seconds, nanos) = try type == .timestamp ? ProtoTime.parseTimestamp(text) : ProtoTime.parseDuration(text)
            if seconds != 0 { writer.tag(1, 0); writer.varint(UInt64(bitPattern: seconds)) }
            if nanos != 0 { writer.tag(2, 0); writer.varint(UInt64(bitPattern: Int64(nanos))) }
        case .structValue:
            guard case .object(let members) = json else { throw DynamicCodecError("a Struct is a JSON object") }
            for (key, value) in members {
                var entry = WireWriter()
                entry.tag(1, 2); entry.lengthDelimited(Array(key.utf8))
                var sub = WireWriter()
                try encodeWellKnown(.value, value, into: &sub, depth: depth + 1)
                entry.tag(2, 2); entry.lengthDelimited(sub.bytes)
                writer.tag(1, 2); writer.lengthDelimited(entry.bytes)
            }
        case .listValue:
            guard case .array(let items) = json else { throw DynamicCodecError("a ListValue is a JSON array") }
            for item in items {
                var sub = WireWriter()
                try encodeWellKnown(.value, item, into: &sub, depth: depth + 1)
                writer.tag(1, 2); writer.lengthDelimited(sub.bytes)
            }
        case .value:
            guard depth < Self.maxDepth else { throw DynamicCodecError("JSON nested more than \(Self.maxDepth) deep") }
            switch json {
            case .null: writer.tag(1, 0); writer.varint(0)
            case .number(let n):
                guard let v = Double(n), v.isFinite else { throw DynamicCodecError("'\(n)' is not a finite number") }
                writer.tag(2, 1); writer.fixed64(v.bitPattern)
            case .string(let s): writer.tag(3, 2); writer.lengthDelimited(Array(s.utf8))
            case .bool(let b): writer.tag(4, 0); writer.varint(b ? 1 : 0)
            case .object:
                var sub = WireWriter()
                try encodeWellKnown(.structValue, json, into: &sub, depth: depth + 1)
                writer.tag(5, 2); writer.lengthDelimited(sub.bytes)
            case .array:
                var sub = WireWriter()
                try encodeWellKnown(.listValue, json, into: &sub, depth: depth + 1)
                writer.tag(6, 2); writer.lengthDelimited(sub.bytes)
            }
        case .nullValue:
            guard json == .null else { throw DynamicCodecError("a NullValue is null") }
        case .fieldMask:
            guard case .string(let text) = json else { throw DynamicCodecError("a FieldMask is a string of comma-separated paths") }
            for path in text.split(separator: ",") {
                let snake = try path.split(separator: ".", omittingEmptySubsequences: false).map { (part: Substring) throws(DynamicCodecError) -> String in
                    guard !part.contains("_") else { throw DynamicCodecError("FieldMask path '\(path)' is not lowerCamelCase") }
                    return part.reduce(into: "") { out, c in out += c.isUppercase ? "_" + c.lowercased() : String(c) }
                }.joined(separator: ".")
                writer.tag(1, 2); writer.lengthDelimited(Array(snake.utf8))
            }
        case .empty:
            guard case .object(let members) = json, members.isEmpty else { throw DynamicCodecError("an Empty is {}") }
        case .any:
            guard case .object(let members) = json else { throw DynamicCodecError("an Any is a JSON object with \"@type\"") }
            if members.isEmpty { return }
            guard case .string(let url)? = json["@type"] else { throw DynamicCodecError("an Any needs \"@type\"") }
            let name = try anyType(url)
            let embedded: JSONValue
            if WellKnownType(rawValue: name) != nil {
                guard let value = json["value"] else { throw DynamicCodecError("an Any holding \(name) puts it in \"value\"") }
                embedded = value
            } else {
                embedded = .object(members.filter { $0.key != "@type" })
            }
            var sub = WireWriter()
            try encodeMessage(embedded, type: name, into: &sub, depth: depth + 1)
            writer.tag(1, 2); writer.lengthDelimited(Array(url.utf8))
            writer.tag(2, 2); writer.lengthDelimited(sub.bytes)
        default:
            guard let field = type.wrapped else { throw DynamicCodecError("unhandled well-known type \(type.rawValue)") }
            writer.tag(1, expectedWire(field))
            try encodeScalar(json, field: field, into: &writer, name: type.rawValue)
        }
    }
}
