import ConveneRPC
import NIOCore
import SwiftProtobuf

/// Checks that bytes are a well-formed protobuf message of a type the plugin's own descriptor
/// set declares: every field's wire type fits its declared type, strings are UTF-8, nested
/// messages and packed fields are whole. A plugin's answers are checked so (a client never
/// gets a misleading parse error for the plugin's fault), and so are its callers' requests,
/// whose strings must also hold only what a party's text may (`PartyText`), as the server's
/// own requests: every plugin gets them checked, and none can forget to.
/// Types the set does not describe are not checked (their bytes need only be well-formed).
///
/// Indexed once, at load: a check looks up no name and hashes nothing (message types are
/// places in an array, and low field numbers places in each message's own).
struct WireValidator: Sendable {
    struct Field: Sendable {
        var name: String
        var type: Google_Protobuf_FieldDescriptorProto.TypeEnum
        var repeated: Bool
        /// The message type of a message or group field, when the set describes it.
        var messageType: MessageType?
    }

    /// A message type the set describes.
    struct MessageType: Sendable, Equatable {
        fileprivate let index: Int
    }

    private struct Message: Sendable {
        /// Fields numbered below `denseLimit`, by number; the others by number in `sparse`.
        var dense: [Field?] = []
        var sparse: [Int: Field] = [:]
        static let denseLimit = 64

        func field(_ number: Int) -> Field? {
            number < dense.count ? dense[number] : (number < Self.denseLimit ? nil : sparse[number])
        }
    }

    private var types: [String: MessageType] = [:]
    private var messages: [Message] = []

    init(descriptorSet: [UInt8]) {
        guard !descriptorSet.isEmpty, let set = try? Google_Protobuf_FileDescriptorSet(serializedBytes: descriptorSet) else { return }
        var described: [(name: String, message: Google_Protobuf_DescriptorProto)] = []
        func collect(_ message: Google_Protobuf_DescriptorProto, prefix: String) {
            let name = prefix + message.name
            described.append((name, message))
            for nested in message.nestedType { collect(nested, prefix: name + ".") }
        }
        for file in set.file {
            for message in file.messageType { collect(message, prefix: file.package.isEmpty ? "" : file.package + ".") }
        }
        for (name, _) in described where types[name] == nil {
            types[name] = MessageType(index: types.count)
        }
        messages = Array(repeating: Message(), count: types.count)
        for (name, message) in described {
            guard let index = types[name]?.index, messages[index].dense.isEmpty, messages[index].sparse.isEmpty else { continue }
            messages[index] = indexed(message.field)
        }
    }

    private func indexed(_ fields: [Google_Protobuf_FieldDescriptorProto]) -> Message {
        var message = Message()
        for descriptor in fields {
            let number = Int(descriptor.number)
            let typeName = descriptor.typeName.hasPrefix(".") ? String(descriptor.typeName.dropFirst()) : descriptor.typeName
            let field = Field(name: descriptor.name, type: descriptor.type, repeated: descriptor.label == .repeated, messageType: types[typeName])
            if number >= 0, number < Message.denseLimit {
                if message.dense.count <= number { message.dense += Array(repeating: nil, count: number + 1 - message.dense.count) }
                if message.dense[number] == nil { message.dense[number] = field }
            } else if message.sparse[number] == nil {
                message.sparse[number] = field
            }
        }
        return message
    }

    func describes(_ type: String) -> Bool { types[type] != nil }

    /// `type` when the set describes it.
    func type(named type: String) -> MessageType? { types[type] }

    /// nil when `bytes` are a valid `type`, else what is wrong.
    func problem(in bytes: [UInt8], as type: String) -> String? {
        bytes.withUnsafeBufferPointer { problem(in: $0, as: types[type]) }
    }

    /// nil when the readable bytes of `buffer` are a valid `type`, else what is wrong.
    func problem(in buffer: ByteBuffer, as type: MessageType) -> String? {
        buffer.withUnsafeReadableBytes { problem(in: $0.assumingMemoryBound(to: UInt8.self), as: type) }
    }

    private func problem(in buffer: UnsafeBufferPointer<UInt8>, as type: MessageType?) -> String? {
        var reader = WireReader(buffer)
        do {
            var unknown = false
            try check(&reader, type: type, depth: 0, endGroup: nil, texts: false, unknown: &unknown)
            return nil
        } catch let error as WireProblem {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    /// What is wrong with a request for a plugin method.
    enum RequestProblem: Equatable {
        /// Not a well-formed message of its type: what is wrong.
        case malformed(String)
        /// A text the request may not hold: the field's path by names ("topics.description"),
        /// and what is wrong with it.
        case text(field: String, String)
    }

    /// A request as the plugin gets it: its bytes, without the fields its type does not declare.
    enum CheckedRequest: Equatable {
        /// Every field is declared: the bytes as they came.
        case asSent
        /// Fields the type does not declare were dropped (their bytes are checked by nobody:
        /// a plugin that kept or echoed them would pass on texts no party may send).
        case stripped([UInt8])
        case refused(RequestProblem)
    }

    /// Checks the readable bytes of `buffer` as a request of `type`: a valid `type` whose texts
    /// hold only what a party's text may (`PartyText`), and whose undeclared fields, at any
    /// depth, are dropped (as a parser of an older version of the type would ignore them).
    func checkedRequest(_ buffer: ByteBuffer, as type: MessageType) -> CheckedRequest {
        buffer.withUnsafeReadableBytes { raw in
            let bytes = raw.assumingMemoryBound(to: UInt8.self)
            var reader = WireReader(bytes)
            var unknown = false
            do {
                try check(&reader, type: type, depth: 0, endGroup: nil, texts: true, unknown: &unknown)
            } catch let found as TextProblem {
                return .refused(.text(field: found.path.reversed().joined(separator: "."), found.what))
            } catch let error as WireProblem {
                return .refused(.malformed(error.message))
            } catch {
                return .refused(.malformed("\(error)"))
            }
            guard unknown else { return .asSent }
            var stripped: [UInt8] = []
            stripped.reserveCapacity(bytes.count)
            var again = WireReader(bytes)
            strip(&again, type: type, into: &stripped, endGroup: nil)
            return .stripped(stripped)
        }
    }

    /// nil when the readable bytes of `buffer` are a valid `type` whose texts hold only what a
    /// party's text may (`PartyText`); else what is wrong.
    func requestProblem(in buffer: ByteBuffer, as type: MessageType) -> RequestProblem? {
        if case .refused(let problem) = checkedRequest(buffer, as: type) { return problem }
        return nil
    }

    private func name(of type: MessageType?) -> String {
        guard let type else { return "?" }
        return types.first { $0.value == type }?.key ?? "?"
    }

    /// `texts`: strings must also be texts a party may send (else `TextProblem`). `unknown` is
    /// set when a described message has a field its type does not declare.
    private func check(_ reader: inout WireReader, type: MessageType?, depth: Int, endGroup: Int?, texts: Bool,
                       unknown: inout Bool) throws {
        // 100 messages at most, the outermost counted: as `convene call` decodes (DynamicCodec.maxDepth),
        // so that no answer passed here is one the CLI then refuses.
        guard depth < 100 else { throw WireProblem("messages nested more than 100 deep") }
        let fields = type.map { messages[$0.index] }
        while !reader.atEnd {
            let tag = try reader.varint()
            guard tag <= UInt64(UInt32.max) else { throw WireProblem("a field tag is out of range") }
            let number = Int(tag >> 3), wireType = Int(tag & 7)
            guard number >= 1, number <= 536_870_911 else { throw WireProblem("field number \(number) is out of range") }
            if wireType == 4 {
                guard number == endGroup else { throw WireProblem("field \(number) ends a group it did not start") }
                return
            }
            let field = fields?.field(number)
            if field == nil, fields != nil { unknown = true }
            if let field, !Self.accepts(field, wireType: wireType) {
                throw WireProblem("field \(number) of \(name(of: type)) is declared \(Self.name(field.type)) but has wire type \(wireType)")
            }
            switch wireType {
            case 0:
                _ = try reader.varint()
            case 1:
                try reader.skip(8)
            case 5:
                try reader.skip(4)
            case 2:
                let length = try reader.varint()
                guard length <= UInt64(reader.remaining) else { throw WireProblem("field \(number) is cut off") }
                var inner = try reader.sub(Int(length))
                switch field?.type {
                case .message?:
                    do {
                        try check(&inner, type: field!.messageType, depth: depth + 1, endGroup: nil, texts: texts, unknown: &unknown)
                    } catch var found as TextProblem {
                        found.path.append(field!.name)
                        throw found
                    }
                case .string? where texts:
                    if let what = inner.textProblem() { throw TextProblem(path: [field!.name], what: what) }
                case .string?:
                    guard inner.isUTF8 else { throw WireProblem("field \(number) of \(name(of: type)) is a string that is not UTF-8") }
                case let scalar? where scalar != .bytes:
                    try inner.packed(of: scalar, field: number)
                default:
                    break
                }
            case 3:
                do {
                    try check(&reader, type: field?.type == .group ? field!.messageType : nil, depth: depth + 1, endGroup: number,
                              texts: texts, unknown: &unknown)
                } catch var found as TextProblem {
                    found.path.append(field?.name ?? String(number))
                    throw found
                }
            default:
                throw WireProblem("field \(number) has wire type \(wireType), which protobuf does not have")
            }
        }
        if let endGroup { throw WireProblem("group \(endGroup) is not ended") }
    }

    /// Copies the message `reader` holds (checked already: well formed) into `out`, without the
    /// fields `type` does not declare, at any depth of declared messages and groups.
    private func strip(_ reader: inout WireReader, type: MessageType, into out: inout [UInt8], endGroup: Int?) {
        let fields = messages[type.index]
        while !reader.atEnd {
            let start = reader.offset
            guard let tag = try? reader.varint() else { return }
            let number = Int(tag >> 3), wireType = Int(tag & 7)
            if wireType == 4 { return }  // the end of the group being copied (its caller writes the tag)
            let field = fields.field(number)
            switch wireType {
            case 2:
                guard let length = try? reader.varint(), var inner = try? reader.sub(Int(length)) else { return }
                if let field, field.type == .message, let nested = field.messageType {
                    var copied: [UInt8] = []
                    strip(&inner, type: nested, into: &copied, endGroup: nil)
                    WireReader.appendVarint(tag, to: &out)
                    WireReader.appendVarint(UInt64(copied.count), to: &out)
                    out += copied
                } else if field != nil {
                    out += reader.bytes(from: start)
                }
            case 3:
                if let field, field.type == .group, let nested = field.messageType {
                    WireReader.appendVarint(tag, to: &out)
                    strip(&reader, type: nested, into: &out, endGroup: number)
                    WireReader.appendVarint(UInt64(number << 3 | 4), to: &out)
                } else {
                    skipGroup(&reader)
                    if field != nil { out += reader.bytes(from: start) }
                }
            default:
                switch wireType {
                case 0: _ = try? reader.varint()
                case 1: try? reader.skip(8)
                default: try? reader.skip(4)
                }
                if field != nil { out += reader.bytes(from: start) }
            }
        }
    }

    /// Skips a group the type does not declare, up to and with its end.
    private func skipGroup(_ reader: inout WireReader) {
        while !reader.atEnd {
            guard let tag = try? reader.varint() else { return }
            switch Int(tag & 7) {
            case 0: _ = try? reader.varint()
            case 1: try? reader.skip(8)
            case 2: if let length = try? reader.varint() { _ = try? reader.sub(Int(length)) }
            case 3: skipGroup(&reader)
            case 4: return
            default: try? reader.skip(4)
            }
        }
    }

    /// Whether a field's declared type comes with `wireType` (2 for a scalar: packed, if repeated).
    private static func accepts(_ field: Field, wireType: Int) -> Bool {
        let packed = field.repeated && wireType == 2
        return switch field.type {
        case .int32, .int64, .uint32, .uint64, .sint32, .sint64, .bool, .enum: wireType == 0 || packed
        case .fixed64, .sfixed64, .double: wireType == 1 || packed
        case .fixed32, .sfixed32, .float: wireType == 5 || packed
        case .string, .bytes, .message: wireType == 2
        case .group: wireType == 3
        }
    }

    static func name(_ type: Google_Protobuf_FieldDescriptorProto.TypeEnum) -> String {
        String(describing: type)
    }
}

struct WireProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// A request's text a party may not send: the field names from it outwards.
private struct TextProblem: Error {
    var path: [String]
    let what: String
}

/// Reads the protobuf wire format from a buffer, never past its end.
struct WireReader {
    private let buffer: UnsafeBufferPointer<UInt8>
    private var position: Int
    private let end: Int

    init(_ buffer: UnsafeBufferPointer<UInt8>) {
        self.buffer = buffer
        position = 0
        end = buffer.count
    }

    private init(_ buffer: UnsafeBufferPointer<UInt8>, from: Int, to: Int) {
        self.buffer = buffer
        position = from
        end = to
    }

    var atEnd: Bool { position >= end }
    var offset: Int { position }

    /// The bytes from `start` (an earlier `offset`) to where the reader is now.
    func bytes(from start: Int) -> [UInt8] { Array(buffer[start..<position]) }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }
    var remaining: Int { end - position }

    mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard position < end else { throw WireProblem("a varint is cut off") }
            let byte = buffer[position]
            position += 1
            if shift == 63, byte > 1 { throw WireProblem("a varint is longer than 64 bits") }
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw WireProblem("a varint is longer than 10 bytes")
    }

    mutating func skip(_ count: Int) throws {
        guard count <= remaining else { throw WireProblem("a fixed-size field is cut off") }
        position += count
    }

    mutating func sub(_ count: Int) throws -> WireReader {
        guard count <= remaining else { throw WireProblem("a length-delimited field is cut off") }
        defer { position += count }
        return WireReader(buffer, from: position, to: position + count)
    }

    var isUTF8: Bool {
        var iterator = UnsafeBufferPointer(rebasing: buffer[position..<end]).makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// What is wrong with the rest as a party's text (`PartyText`): nil when nothing is.
    func textProblem() -> String? {
        var iterator = UnsafeBufferPointer(rebasing: buffer[position..<end]).makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if PartyText.forbids(scalar) { return PartyText.refusal(scalar) }
            case .emptyInput: return nil
            case .error: return "is not UTF-8"
            }
        }
    }

    /// A packed repeated scalar field: whole values only.
    mutating func packed(of type: Google_Protobuf_FieldDescriptorProto.TypeEnum, field: Int) throws {
        while !atEnd {
            switch type {
            case .fixed64, .sfixed64, .double: try skip(8)
            case .fixed32, .sfixed32, .float: try skip(4)
            default: _ = try varint()
            }
        }
    }
}
