import SwiftProtobuf

/// Whether a plugin's descriptor set describes what the plugin serves: its service, each of
/// its methods, and their input and output types. What it leaves out, reflection and the CLI
/// cannot describe (`convene call` then finds no such symbol), and answers of a type it does
/// not describe are passed on unchecked: a plugin whose service was renamed in its code but
/// not in its `.proto` loads with a warning that says so, rather than failing at each call.
enum DescriptorCoverage {
    /// A warning naming what `set` leaves out, or nil when it describes everything (or is not
    /// a descriptor set at all: the loader refuses that).
    static func gap(service: String, methods: [PluginManifest.Method], in set: [UInt8]) -> String? {
        guard let parsed = try? Google_Protobuf_FileDescriptorSet(serializedBytes: set) else { return nil }
        var services: [String: Google_Protobuf_ServiceDescriptorProto] = [:]
        var types = Set<String>()
        for file in parsed.file {
            let package = file.package.isEmpty ? "" : file.package + "."
            for described in file.service { services[package + described.name] = described }
            for message in file.messageType { collect(message, prefix: package, into: &types) }
        }
        guard let described = services[service] else {
            let named = services.keys.sorted().prefix(5).map(DescriptorNames.ascii).joined(separator: ", ")
            return "its descriptor set does not describe its service \(DescriptorNames.ascii(service)) (it describes \(named.isEmpty ? "no service" : named)): reflection and the CLI cannot describe its methods"
        }
        let describedMethods = Set(described.method.map(\.name))
        let missing = methods.map(\.name).filter { !describedMethods.contains($0) }
        let untyped = Set(methods.flatMap { [$0.inputType, $0.outputType] }).filter { !types.contains($0) }.sorted()
        var gaps: [String] = []
        if !missing.isEmpty { gaps.append("method\(missing.count == 1 ? "" : "s") \(list(missing)) of \(service)") }
        if !untyped.isEmpty { gaps.append("type\(untyped.count == 1 ? "" : "s") \(list(untyped))") }
        guard !gaps.isEmpty else { return nil }
        return "its descriptor set does not describe \(gaps.joined(separator: " or ")): reflection and the CLI cannot describe them, and answers of a type it does not describe are not checked"
    }

    private static func collect(_ message: Google_Protobuf_DescriptorProto, prefix: String, into types: inout Set<String>) {
        let name = prefix + message.name
        types.insert(name)
        for nested in message.nestedType { collect(nested, prefix: name + ".", into: &types) }
    }

    /// At most five names, printable, then how many more.
    private static func list(_ names: [String]) -> String {
        let shown = names.prefix(5).map(DescriptorNames.ascii).joined(separator: ", ")
        return names.count > 5 ? "\(shown) and \(names.count - 5) more" : shown
    }
}
