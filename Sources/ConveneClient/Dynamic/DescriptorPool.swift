import SwiftProtobuf

/// Message and service descriptors fetched through reflection, by fully qualified name.
public struct DescriptorPool: Sendable {
    public private(set) var messages: [String: Google_Protobuf_DescriptorProto] = [:]
    public private(set) var enums: [String: Google_Protobuf_EnumDescriptorProto] = [:]
    public private(set) var services: [String: Google_Protobuf_ServiceDescriptorProto] = [:]
    /// The file each service comes from (for describing it).
    public private(set) var files: [String: Google_Protobuf_FileDescriptorProto] = [:]
    /// Messages of proto3 files, whose singular scalar fields have no presence of their own.
    private(set) var proto3: Set<String> = []

    public init(files: [Google_Protobuf_FileDescriptorProto]) {
        for file in files { add(file) }
    }

    public mutating func add(_ file: Google_Protobuf_FileDescriptorProto) {
        files[file.name] = file
        let prefix = file.package.isEmpty ? "" : file.package + "."
        for message in file.messageType { addMessage(message, prefix: prefix, proto3: file.syntax == "proto3") }
        for e in file.enumType { enums[prefix + e.name] = e }
        for service in file.service { services[prefix + service.name] = service }
    }

    private mutating func addMessage(_ message: Google_Protobuf_DescriptorProto, prefix: String, proto3: Bool) {
        let name = prefix + message.name
        messages[name] = message
        if proto3 { self.proto3.insert(name) }
        for nested in message.nestedType { addMessage(nested, prefix: name + ".", proto3: proto3) }
        for e in message.enumType { enums[name + "." + e.name] = e }
    }

    /// A type name as descriptors write it (".pkg.Msg") to the key used here ("pkg.Msg").
    public static func key(_ typeName: String) -> String {
        typeName.hasPrefix(".") ? String(typeName.dropFirst()) : typeName
    }

    public func message(_ name: String) throws(DynamicCodecError) -> Google_Protobuf_DescriptorProto {
        guard let message = messages[Self.key(name)] else { throw DynamicCodecError("unknown message type \(Self.key(name))") }
        return message
    }

    /// Whether a field's value is written even when it is the default: fields with presence
    /// (messages, oneof members, proto3 `optional`, every field of proto2).
    func hasPresence(_ field: Google_Protobuf_FieldDescriptorProto, in message: String) -> Bool {
        field.type == .message || field.type == .group || field.hasOneofIndex || field.proto3Optional
            || !proto3.contains(Self.key(message))
    }

    func isMapEntry(_ typeName: String) -> Bool {
        messages[Self.key(typeName)]?.options.mapEntry ?? false
    }
}

public struct DynamicCodecError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
