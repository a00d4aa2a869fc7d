import ConvenePluginABI
import ConveneRPC
import Foundation
import Logging

/// A method a plugin serves, copied out of its descriptor.
struct PluginMethod: @unchecked Sendable {
    let name: String
    let inputType: String
    let outputType: String
    let onCall: convene_on_call_fn
    /// The method's entry in the plugin's own table, passed back to `on_call`.
    let entry: UnsafePointer<convene_method>
}

/// A library the host loaded and whose entry point accepted the handshake.
public final class LoadedPlugin: @unchecked Sendable {
    public let path: String
    public let name: String
    public let version: String
    public let abiMinor: UInt32
    public let service: String
    public let events: [String]
    public let descriptorSet: [UInt8]
    public var methodNames: [String] { methods.map(\.name) }
    /// Whether the library contains Swift code, which cannot be unloaded safely.
    public let containsSwift: Bool
    let methods: [PluginMethod]
    let handle: UnsafeMutableRawPointer
    let state: UnsafeMutableRawPointer?
    let onEvent: convene_on_event_fn?
    let onUnload: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    let limiter: AsyncLimiter
    /// Taken around every commit, and around the whole of a call's last attempt after
    /// conflicts, so that a contended call always completes.
    let storageLock = NSRecursiveLock()
    let services: any PluginServices
    let invoker: RouterInvoker
    let logger: Logger
    /// Kept alive while loaded: the plugin may hold its `convene_host*`.
    var hostHandle: HostHandle?

    init(path: String, handle: UnsafeMutableRawPointer, descriptor: convene_plugin_descriptor, concurrency: Int,
         services: any PluginServices, invoker: RouterInvoker, logger: Logger) throws(PluginLoadError) {
        func text(_ pointer: UnsafePointer<CChar>?, _ field: String) throws(PluginLoadError) -> String {
            guard let pointer else { throw .badDescriptor(path: path, reason: "\(field) is NULL") }
            return String(cString: pointer)
        }
        self.path = path
        self.handle = handle
        self.name = try text(descriptor.name, "name")
        self.version = try text(descriptor.version, "version")
        self.service = try text(descriptor.service, "service")
        self.abiMinor = descriptor.abi_minor
        guard !name.isEmpty, name.utf8.count <= 100 else { throw .badDescriptor(path: path, reason: "name must be 1 to 100 bytes") }
        guard service.contains("."), !service.contains("/") else {
            throw .badDescriptor(path: path, reason: "service '\(service)' is not a fully qualified name")
        }
        var methods: [PluginMethod] = []
        if descriptor.method_count > 0 {
            guard let table = descriptor.methods else { throw .badDescriptor(path: path, reason: "methods is NULL") }
            for i in 0..<descriptor.method_count {
                let m = table[i]
                guard let onCall = m.on_call else {
                    throw .badDescriptor(path: path, reason: "method \(i) has no on_call")
                }
                guard m.kind == CONVENE_UNARY else {
                    throw .badDescriptor(path: path, reason: "method \(i) is of a kind this host does not serve")
                }
                methods.append(PluginMethod(name: try text(m.name, "methods[\(i)].name"),
                                            inputType: try text(m.input_type, "methods[\(i)].input_type"),
                                            outputType: try text(m.output_type, "methods[\(i)].output_type"),
                                            onCall: onCall, entry: table.advanced(by: i)))
            }
        }
        self.methods = methods
        var events: [String] = []
        if descriptor.event_count > 0 {
            guard let list = descriptor.events else { throw .badDescriptor(path: path, reason: "events is NULL") }
            for i in 0..<descriptor.event_count { events.append(try text(list[i], "events[\(i)]")) }
            guard descriptor.on_event != nil else {
                throw .badDescriptor(path: path, reason: "it subscribes to events but has no on_event")
            }
        }
        self.events = events
        self.descriptorSet = descriptor.descriptor_set.map { Array(UnsafeBufferPointer(start: $0, count: descriptor.descriptor_set_len)) } ?? []
        self.state = descriptor.state
        self.onEvent = descriptor.on_event
        self.onUnload = descriptor.on_unload
        self.containsSwift = dlsym(handle, "swift_retain") != nil
        self.limiter = AsyncLimiter(limit: concurrency)
        self.services = services
        self.invoker = invoker
        var logger = logger
        logger[metadataKey: "plugin"] = "\(name)"
        self.logger = logger
    }


    /// Whether this plugin wants events of `kind`.
    func subscribes(to kind: String) -> Bool {
        events.contains("*") || events.contains(kind)
    }
}
