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
            var sizes: [Int] = [], cursor = 0, nothing: [UInt8] = []
            var measure = WireReader(bytes)
            let size = strip(&measure, type: type, measuring: true, sizes: &sizes, cursor: &cursor, out: &nothing)
            var stripped: [UInt8] = []
            stripped.reserveCapacity(size)
            var write = WireReader(bytes)
            _ = strip(&write, type: type, measuring: false, sizes: &sizes, cursor: &cursor, out: &stripped)
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

    /// The message `reader` holds (checked already: well formed) without the fields `type` does
    /// not declare, at any depth of declared messages and groups: its size, and, unless
    /// `measuring`, its bytes appended to `out`. Measuring records the stripped size of each
    /// declared nested message in `sizes`, in the order they come; writing takes them back in
    /// that order (`cursor`), so that each byte is copied once however deep it is (a copy per
    /// level of nesting made a deep request cost its size times its depth).
    private func strip(_ reader: inout WireReader, type: MessageType, measuring: Bool,
                       sizes: inout [Int], cursor: inout Int, out: inout [UInt8]) -> Int {
        let fields = messages[type.index]
        var total = 0
        while !reader.atEnd {
            let start = reader.offset
            guard let tag = try? reader.varint() else { break }
            let number = Int(tag >> 3), wireType = Int(tag & 7)
            if wireType == 4 { break }  // the end of the group being copied (its caller writes the tag)
            let field = fields.field(number)
            if wireType == 2, let field, field.type == .message, let nested = field.messageType {
                guard let length = try? reader.varint(), var inner = try? reader.sub(Int(length)) else { break }
                let size: Int
                if measuring {
                    let slot = sizes.count
                    sizes.append(0)
                    size = strip(&inner, type: nested, measuring: true, sizes: &sizes, cursor: &cursor, out: &out)
                    sizes[slot] = size
                } else {
                    size = sizes[cursor]
                    cursor += 1
                    WireReader.appendVarint(tag, to: &out)
                    WireReader.appendVarint(UInt64(size), to: &out)
                    _ = strip(&inner, type: nested, measuring: false, sizes: &sizes, cursor: &cursor, out: &out)
                }
                total += WireReader.varintSize(tag) + WireReader.varintSize(UInt64(size)) + size
            } else if wireType == 3, let field, field.type == .group, let nested = field.messageType {
                let endTag = UInt64(number << 3 | 4)
                if !measuring { WireReader.appendVarint(tag, to: &out) }
                let size = strip(&reader, type: nested, measuring: measuring, sizes: &sizes, cursor: &cursor, out: &out)
                if !measuring { WireReader.appendVarint(endTag, to: &out) }
                total += WireReader.varintSize(tag) + size + WireReader.varintSize(endTag)
            } else {
                reader.skipValue(wireType: wireType)
                if field != nil {
                    if !measuring { reader.append(from: start, to: &out) }
                    total += reader.offset - start
                }
            }
        }
        return total
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

    /// Appends the bytes from `start` (an earlier `offset`) to where the reader is now.
    func append(from start: Int, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<position]))
    }

    /// Skips a field's value of `wireType` (after its tag), a group up to and with its end.
    /// For bytes checked already: what is cut off ends the reading.
    mutating func skipValue(wireType: Int) {
        switch wireType {
        case 0: _ = try? varint()
        case 1: try? skip(8)
        case 2: if let length = try? varint(), length <= UInt64(remaining) { position += Int(length) } else { position = end }
        case 3:
            while !atEnd {
                guard let tag = try? varint() else { return }
                if tag & 7 == 4 { return }
                skipValue(wireType: Int(tag & 7))
            }
        default: try? skip(4)
        }
    }

    static func varintSize(_ value: UInt64) -> Int {
        var size = 1, rest = value
        while rest >= 0x80 {
            size += 1
            rest >>= 7
        }
        return size
    }

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
