import SwiftProtobuf

/// The names in a plugin's descriptor set are protobuf's: identifiers (letters, digits and
/// '_', not starting with a digit), packages and type references made of them, file names
/// without control characters. A set is the plugin's to write, and its names reach
/// reflection, `convene describe` and terminals: one named with a control character (a
/// right-to-left override, a bell, an escape sequence) is refused when the plugin loads.
enum DescriptorNames {
    /// What is wrong with the set's names, if anything (named in printable ASCII).
    static func problem(in set: Google_Protobuf_FileDescriptorSet) -> String? {
        for file in set.file {
            if file.name.isEmpty || file.name.utf8.count > 1000
                || file.name.unicodeScalars.contains(where: { [.control, .format].contains($0.properties.generalCategory) || $0 == "\u{FFFD}" }) {
                return "file name '\(ascii(file.name))' is empty, over 1000 bytes, or holds a control character"
            }
            if !file.package.isEmpty, !isQualified(file.package) { return bad("package", file.package, in: file) }
            for message in file.messageType { if let problem = problem(in: message, file: file) { return problem } }
            for e in file.enumType { if let problem = problem(in: e, file: file) { return problem } }
            for service in file.service {
                if !isIdentifier(service.name) { return bad("service", service.name, in: file) }
                for method in service.method {
                    if !isIdentifier(method.name) { return bad("method", method.name, in: file) }
                    for type in [method.inputType, method.outputType] where !isReference(type) { return bad("type", type, in: file) }
                }
            }
        }
        return nil
    }

    private static func problem(in message: Google_Protobuf_DescriptorProto, file: Google_Protobuf_FileDescriptorProto) -> String? {
        if !isIdentifier(message.name) { return bad("message", message.name, in: file) }
        for field in message.field + message.extension {
            if !isIdentifier(field.name) { return bad("field", field.name, in: file) }
            if field.hasTypeName, !isReference(field.typeName) { return bad("type", field.typeName, in: file) }
        }
        for oneof in message.oneofDecl where !isIdentifier(oneof.name) { return bad("oneof", oneof.name, in: file) }
        for nested in message.nestedType { if let problem = problem(in: nested, file: file) { return problem } }
        for e in message.enumType { if let problem = problem(in: e, file: file) { return problem } }
        return nil
    }

    private static func problem(in e: Google_Protobuf_EnumDescriptorProto, file: Google_Protobuf_FileDescriptorProto) -> String? {
        if !isIdentifier(e.name) { return bad("enum", e.name, in: file) }
        for value in e.value where !isIdentifier(value.name) { return bad("enum value", value.name, in: file) }
        return nil
    }

    private static func bad(_ what: String, _ name: String, in file: Google_Protobuf_FileDescriptorProto) -> String {
        "\(what) name '\(ascii(name))' in \(ascii(file.name)) is not a protobuf identifier"
    }

    /// `name` with every character outside printable ASCII escaped ("\u{202E}"): a refusal
    /// names it without carrying it into logs and terminals.
    static func ascii(_ name: String) -> String {
        String(name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? String($0) : $0.escaped(asASCII: true) }
            .joined().prefix(200))
    }

    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 1000, !(first >= 0x30 && first <= 0x39) else { return false }
        return name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x5F }
    }

    /// "a.b.c": identifiers joined by dots.
    static func isQualified(_ name: String) -> Bool {
        name.utf8.count <= 1000 && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isIdentifier(String($0)) }
    }

    /// A type as a field or method names it: qualified, with a leading dot when fully qualified.
    static func isReference(_ name: String) -> Bool {
        isQualified(name.hasPrefix(".") ? String(name.dropFirst()) : name)
    }
}
