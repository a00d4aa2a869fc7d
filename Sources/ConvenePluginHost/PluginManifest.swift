import ConvenePluginABI
import Foundation

/// What a plugin declared about itself, copied out of its descriptor: the same whether its
/// code runs in the server or in a runner process.
public struct PluginManifest: Sendable, Equatable {
    public struct Method: Sendable, Equatable {
        public var name: String
        public var inputType: String
        public var outputType: String
    }

    /// The file it was loaded from (as resolved on the server).
    public var path: String
    public var name: String
    public var version: String
    public var abiMinor: UInt32
    public var service: String
    public var methods: [Method]
    public var events: [String]
    public var descriptorSet: [UInt8]
    /// Whether the library contains Swift code, which cannot be unloaded safely.
    public var containsSwift: Bool
    /// Loaded, but the operator should know (a newer ABI minor version, no descriptor set).
    public var warnings: [String]

    public var methodNames: [String] { methods.map(\.name) }

    /// Whether the plugin wants events of `kind`.
    public func subscribes(to kind: String) -> Bool {
        events.contains("*") || events.contains(kind)
    }

    /// Reads and checks a descriptor the plugin's entry point returned.
    init(path: String, descriptor: convene_plugin_descriptor, containsSwift: Bool) throws(PluginLoadError) {
        func text(_ pointer: UnsafePointer<CChar>?, _ field: String, max: Int = 1000) throws(PluginLoadError) -> String {
            guard let pointer else { throw .badDescriptor(path: path, reason: "\(field) is NULL") }
            guard strnlen(pointer, max + 1) <= max else { throw .badDescriptor(path: path, reason: "\(field) is over \(max) bytes") }
            return String(cString: pointer)
        }
        guard descriptor.abi_major == UInt32(CONVENE_ABI_MAJOR) else {
            throw .abiMajorMismatch(path: path, plugin: descriptor.abi_major, host: UInt32(CONVENE_ABI_MAJOR))
        }
        let hostMinor = UInt32(CONVENE_ABI_MINOR)
        guard descriptor.size >= MemoryLayout<convene_plugin_descriptor>.size || descriptor.abi_minor < hostMinor else {
            throw .badDescriptor(path: path, reason: "size \(descriptor.size) is smaller than ABI \(descriptor.abi_major).\(descriptor.abi_minor) requires")
        }
        self.path = path
        self.containsSwift = containsSwift
        name = try text(descriptor.name, "name")
        version = try text(descriptor.version, "version")
        service = try text(descriptor.service, "service")
        abiMinor = descriptor.abi_minor
        guard service.contains("."), !service.contains("/") else {
            throw .badDescriptor(path: path, reason: "service '\(service)' is not a fully qualified name")
        }
        guard descriptor.method_count <= 1000, descriptor.event_count <= 1000 else {
            throw .badDescriptor(path: path, reason: "more than 1000 methods or events")
        }
        methods = []
        if descriptor.method_count > 0 {
            guard let table = descriptor.methods else { throw .badDescriptor(path: path, reason: "methods is NULL") }
            for i in 0..<descriptor.method_count {
                let method = table[i]
                guard method.on_call != nil else { throw .badDescriptor(path: path, reason: "method \(i) has no on_call") }
                guard method.kind == CONVENE_UNARY else {
                    throw .badDescriptor(path: path, reason: "method \(i) is of a kind this host does not serve")
                }
                methods.append(Method(name: try text(method.name, "methods[\(i)].name"),
                                      inputType: try text(method.input_type, "methods[\(i)].input_type"),
                                      outputType: try text(method.output_type, "methods[\(i)].output_type")))
            }
        }
        events = []
        if descriptor.event_count > 0 {
            guard let list = descriptor.events else { throw .badDescriptor(path: path, reason: "events is NULL") }
            for i in 0..<descriptor.event_count { events.append(try text(list[i], "events[\(i)]")) }
            guard descriptor.on_event != nil else {
                throw .badDescriptor(path: path, reason: "it subscribes to events but has no on_event")
            }
        }
        guard descriptor.descriptor_set_len <= 16 << 20 else {
            throw .badDescriptor(path: path, reason: "descriptor_set_len is over 16 MiB")
        }
        descriptorSet = descriptor.descriptor_set.map { Array(UnsafeBufferPointer(start: $0, count: descriptor.descriptor_set_len)) } ?? []
        warnings = []
        if abiMinor > hostMinor {
            warnings.append("built for plugin ABI 1.\(abiMinor), newer than this server's 1.\(hostMinor): loaded, but host functions added after 1.\(hostMinor) are missing")
        }
        if descriptorSet.isEmpty {
            warnings.append("no descriptor set: reflection and the CLI cannot describe its methods, and its responses are not checked against their declared types")
        } else if let gap = DescriptorCoverage.gap(service: service, methods: methods, in: descriptorSet) {
            warnings.append(gap)
        }
        if let problem { throw .badDescriptor(path: path, reason: problem) }
    }

    /// What breaks the rules a descriptor is held to, or nil: for a manifest that comes as
    /// data (a runner process's, which a plugin could forge), checked as the server's loader
    /// checks a descriptor.
    var problem: String? {
        let texts = [name, version, service] + methods.flatMap { [$0.name, $0.inputType, $0.outputType] } + events
        if texts.contains(where: { $0.utf8.count > 1000 }) { return "a name or type is over 1000 bytes" }
        // Names end up in logs, metrics and `convene plugins`: a newline in one forged log lines.
        if texts.contains(where: { $0.unicodeScalars.contains { $0.properties.generalCategory == .control || $0 == "\u{FFFD}" } }) {
            return "a name, type or event holds a control character or bytes that are not UTF-8"
        }
        if name.isEmpty || name.utf8.count > 100
            || !name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }) {
            return "name must be 1 to 100 letters, digits, '.', '_' or '-'"
        }
        if !service.contains(".") || service.contains("/") { return "service '\(service)' is not a fully qualified name" }
        if methods.count > 1000 || events.count > 1000 { return "more than 1000 methods or events" }
        if methods.contains(where: { $0.name.isEmpty || $0.name.contains("/") }) { return "a method name is empty or holds '/'" }
        if descriptorSet.count > 16 << 20 { return "descriptor_set_len is over 16 MiB" }
        if warnings.count > 10 || warnings.contains(where: { $0.utf8.count > 1000 }) { return "more warnings than a loader gives" }
        return nil
    }

    init(path: String, name: String, version: String, abiMinor: UInt32, service: String, methods: [Method],
         events: [String], descriptorSet: [UInt8], containsSwift: Bool, warnings: [String]) {
        self.path = path
        self.name = name
        self.version = version
        self.abiMinor = abiMinor
        self.service = service
        self.methods = methods
        self.events = events
        self.descriptorSet = descriptorSet
        self.containsSwift = containsSwift
        self.warnings = warnings
    }
}
