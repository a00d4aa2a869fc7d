/// Why the loader refused a library. Every case names the file.
public enum PluginLoadError: Error, CustomStringConvertible, Sendable, Equatable {
    case cannotOpen(path: String, reason: String)
    case missingEntry(path: String)
    case abiMajorMismatch(path: String, plugin: UInt32, host: UInt32)
    case initFailed(path: String, status: Int32, message: String)
    case badDescriptor(path: String, reason: String)
    case duplicateName(path: String, name: String)
    case methodConflict(path: String, reason: String)
    /// Isolated: the runner process ended before the plugin was ready (a crash in its entry point).
    case processFailed(path: String, reason: String)
    /// In process: the entry point did not return in time (`--plugin-ready-timeout`).
    case notReady(path: String, reason: String)
    /// Isolated: one of the errors above, as the runner process reported it (`message` names the file).
    case reported(path: String, message: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "\(path): cannot be loaded: \(reason)"
        case .missingEntry(let path):
            "\(path): no entry symbol 'convene_plugin_entry' (is it a Convene plugin, built with the symbol exported?)"
        case .abiMajorMismatch(let path, let plugin, let host):
            "\(path): built for plugin ABI \(plugin).x; this server speaks \(host).x"
        case .initFailed(let path, let status, let message):
            "\(path): its entry point failed with status \(status): \(message.isEmpty ? "no reason given" : message)"
        case .badDescriptor(let path, let reason):
            "\(path): invalid descriptor: \(reason)"
        case .duplicateName(let path, let name):
            "\(path): a plugin named '\(name)' is already loaded"
        case .methodConflict(let path, let reason):
            "\(path): \(reason)"
        case .notReady(let path, let reason):
            "\(path): \(reason)"
        case .processFailed(let path, let reason):
            "\(path): its plugin process failed: \(reason)"
        case .reported(_, let message):
            message
        }
    }

    public var path: String {
        switch self {
        case .cannotOpen(let path, _), .missingEntry(let path), .abiMajorMismatch(let path, _, _),
             .initFailed(let path, _, _), .badDescriptor(let path, _), .duplicateName(let path, _),
             .methodConflict(let path, _), .notReady(let path, _), .processFailed(let path, _), .reported(let path, _):
            path
        }
    }
}
