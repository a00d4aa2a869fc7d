import ConveneRPC
import Foundation
import SwiftProtobuf
import Synchronization

/// Checks the texts of built-in requests by `PartyText`'s rule.
public enum RequestText {
    /// The first scalar of `text` a request may not carry, if any.
    public static func forbiddenScalar(in text: String) -> Unicode.Scalar? {
        text.unicodeScalars.first(where: PartyText.forbids)
    }

    /// "FIELD: contains the control character U+001B".
    public static func refusal(field: String, _ scalar: Unicode.Scalar) -> RPCError {
        RPCError(.invalidArgument, "\(field): \(PartyText.refusal(scalar))")
    }

    /// Refuses a request any of whose texts, however deep in its messages, lists or maps, holds
    /// a scalar `forbiddenScalar` names: INVALID_ARGUMENT naming the field by its path
    /// ("informal_paper.topics[2].description", by the names `useFieldNames` was given).
    public static func check(_ message: some SwiftProtobuf.Message) throws(RPCError) {
        var audit = TextAudit(message: type(of: message).protoMessageName, path: [])
        do {
            try message.traverse(visitor: &audit)
        } catch let found as ForbiddenText {
            throw refusal(field: fieldNames.withLock { $0.path(found.path) }, found.scalar)
        } catch {
            throw RPCError(.internal, "checking the request's texts: \(error)")
        }
    }

    /// Names the fields of refusals' paths from a serialized FileDescriptorSet (the server's
    /// protos); without it, fields are named by their numbers.
    public static func useFieldNames(from descriptorSet: [UInt8]) {
        // Once per set: every server of a process (tests start many) gives the same.
        guard fieldNames.withLock({ $0.sets.insert(descriptorSet.hashValue).inserted }),
              let set = try? Google_Protobuf_FileDescriptorSet(serializedBytes: descriptorSet) else { return }
        fieldNames.withLock { $0.add(set) }
    }

    private static let fieldNames = Mutex(FieldNames())
}

/// One step of a path to a text: the message it is in, the field's number, and where in a
/// list or map.
struct TextStep: Sendable {
    let message: String
    let number: Int
    let position: String
}

/// Field names by message and number, from descriptors.
struct FieldNames: Sendable {
    private var names: [String: [Int: String]] = [:]
    /// The sets added, by hash.
    var sets: Set<Int> = []

    mutating func add(_ set: Google_Protobuf_FileDescriptorSet) {
        for file in set.file {
            let prefix = file.package.isEmpty ? "" : file.package + "."
            for message in file.messageType { add(message, prefix: prefix) }
        }
    }

    private mutating func add(_ message: Google_Protobuf_DescriptorProto, prefix: String) {
        let name = prefix + message.name
        names[name] = Dictionary(message.field.map { (Int($0.number), $0.name) }, uniquingKeysWith: { first, _ in first })
        for nested in message.nestedType { add(nested, prefix: name + ".") }
    }

    func path(_ steps: [TextStep]) -> String {
        steps.map { step in (names[step.message]?[step.number] ?? String(step.number)) + step.position }
            .joined(separator: ".")
    }
}

/// Thrown out of the walk at the first forbidden text.
private struct ForbiddenText: Error {
    let path: [TextStep]
    let scalar: Unicode.Scalar
}

/// Walks a message's fields for `RequestText.check`; names are looked up only once a text is refused.
private struct TextAudit: SwiftProtobuf.Visitor {
    /// The full name of the message being walked, and the steps to it.
    let message: String
    let path: [TextStep]

    func check(_ text: String, _ number: Int, _ position: @autoclosure () -> String = "") throws {
        if let scalar = RequestText.forbiddenScalar(in: text) {
            throw ForbiddenText(path: path + [TextStep(message: message, number: number, position: position())], scalar: scalar)
        }
    }

    func nested(_ value: some SwiftProtobuf.Message, _ number: Int, _ position: String = "") throws {
        var inner = TextAudit(message: type(of: value).protoMessageName,
                              path: path + [TextStep(message: message, number: number, position: position)])
        try value.traverse(visitor: &inner)
    }

    mutating func visitSingularStringField(value: String, fieldNumber: Int) throws {
        try check(value, fieldNumber)
    }

    mutating func visitRepeatedStringField(value: [String], fieldNumber: Int) throws {
        for (index, text) in value.enumerated() { try check(text, fieldNumber, "[\(index)]") }
    }

    mutating func visitSingularMessageField<M: SwiftProtobuf.Message>(value: M, fieldNumber: Int) throws {
        try nested(value, fieldNumber)
    }

    mutating func visitRepeatedMessageField<M: SwiftProtobuf.Message>(value: [M], fieldNumber: Int) throws {
        for (index, message) in value.enumerated() { try nested(message, fieldNumber, "[\(index)]") }
    }

    mutating func visitSingularGroupField<G: SwiftProtobuf.Message>(value: G, fieldNumber: Int) throws {
        try nested(value, fieldNumber)
    }

    mutating func visitMapField<KeyType, ValueType: MapValueType>(
        fieldType: _ProtobufMap<KeyType, ValueType>.Type, value: _ProtobufMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws {
        for (key, entry) in value {
            if let text = key as? String { try check(text, fieldNumber, " key") }
            if let text = entry as? String { try check(text, fieldNumber, "[\(key)]") }
        }
    }

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type, value: _ProtobufEnumMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws where ValueType.RawValue == Int {
        for key in value.keys {
            if let text = key as? String { try check(text, fieldNumber, " key") }
        }
    }

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type, value: _ProtobufMessageMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws {
        for (key, entry) in value {
            if let text = key as? String { try check(text, fieldNumber, " key") }
            try nested(entry, fieldNumber, "[\(key)]")
        }
    }

    // Numbers, booleans, bytes and enums hold no text.
    mutating func visitSingularDoubleField(value: Double, fieldNumber: Int) throws {}
    mutating func visitSingularInt64Field(value: Int64, fieldNumber: Int) throws {}
    mutating func visitSingularUInt64Field(value: UInt64, fieldNumber: Int) throws {}
    mutating func visitSingularBoolField(value: Bool, fieldNumber: Int) throws {}
    mutating func visitSingularBytesField(value: Data, fieldNumber: Int) throws {}
    mutating func visitSingularEnumField<E: SwiftProtobuf.Enum>(value: E, fieldNumber: Int) throws {}
    mutating func visitUnknown(bytes: Data) throws {}
}
