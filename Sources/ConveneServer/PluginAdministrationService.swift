import ConveneDomain
import ConvenePluginHost
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneServices
import ConveneStore
import Foundation
import SwiftProtobuf

/// Lists loaded plugins (any party) and loads, unloads and reloads them (administrators).
struct PluginAdministrationService: PluginAdministrationServiceProtocol {
    let host: PluginHost
    let auth: Authenticator
    /// Where plugins' storage is, and its limit (what administrators see of it).
    let store: any PluginStore
    let storageLimit: Int64

    func administrator(_ context: ServerCallContext) async throws {
        try PartyRules.checkAdministrator(try await auth.caller(context.requestMetadata), calling: context.method.description)
    }

    func listPlugins(_ request: Convene_Plugins_V1_ListPluginsRequest,
                     context: ServerCallContext) async throws -> Convene_Plugins_V1_ListPluginsResponse {
        // Where the libraries are on the server is the administrator's business only.
        let administrator = try await auth.caller(context.requestMetadata).isAdministrator
        return .with {
            $0.plugins = host.loaded.map { $0.info(showingFile: administrator, storage: administrator ? storage(of: $0.name) : nil) }
            $0.failures = host.failures.map { failure in
                .with {
                    $0.library = (failure.path as NSString).lastPathComponent
                    $0.file = administrator ? failure.path : ""
                    $0.reason = administrator ? failure.reason
                        : failure.reason.replacingOccurrences(of: failure.path, with: $0.library)
                }
            }
        }
    }

    func loadPlugin(_ request: Convene_Plugins_V1_LoadPluginRequest, context: ServerCallContext) async throws -> Convene_Plugins_V1_PluginInfo {
        try await administrator(context)
        guard !request.path.isEmpty else { throw RPCError(.invalidArgument, "path: required") }
        do {
            return try withStorage(host.load(path: request.path))
        } catch let error as PluginLoadError {
            throw RPCError(.failedPrecondition, error.description)
        }
    }

    func unloadPlugin(_ request: Convene_Plugins_V1_UnloadPluginRequest,
                      context: ServerCallContext) async throws -> Convene_Plugins_V1_UnloadPluginResponse {
        try await administrator(context)
        try await host.unload(name: request.name)
        return Convene_Plugins_V1_UnloadPluginResponse()
    }

    func reloadPlugin(_ request: Convene_Plugins_V1_ReloadPluginRequest, context: ServerCallContext) async throws -> Convene_Plugins_V1_PluginInfo {
        try await administrator(context)
        guard !request.path.isEmpty else { return withStorage(try await host.reload(name: request.name)) }
        // A new library in the plugin's place: refused before anything is unloaded when it may not load.
        let path = try host.allowedPath(request.path)
        guard let previous = host.loaded.first(where: { $0.name == request.name })?.path else {
            throw RPCError(.notFound, "no plugin named '\(request.name)' is loaded")
        }
        try await host.unload(name: request.name)
        let replacement: LoadedPlugin
        do {
            replacement = try host.load(path: path)
        } catch let error as PluginLoadError {
            throw RPCError(.failedPrecondition, "\(request.name) was unloaded, and its replacement was refused: \(error.description)")
        }
        guard replacement.name != request.name else { return withStorage(replacement) }
        // Another plugin, with storage and an event position of its own: not a new version of
        // this one. It goes, and the plugin it would have replaced comes back.
        try? await host.unload(name: replacement.name)
        let restored: String
        do {
            try host.load(path: previous)
            restored = "\(request.name) was loaded again from \(previous)"
        } catch {
            restored = "\(request.name) could not be loaded again (\(error)): load it with LoadPlugin"
        }
        throw RPCError(.failedPrecondition,
            "\(path) is the plugin '\(replacement.name)', not '\(request.name)': a reload replaces a plugin with a version of itself (its storage and event position go by its name); unload '\(request.name)' and load the other instead. \(restored)")
    }

    /// What an administrator is shown of a plugin.
    private func withStorage(_ plugin: LoadedPlugin) -> Convene_Plugins_V1_PluginInfo {
        plugin.info(showingFile: true, storage: storage(of: plugin.name))
    }

    /// What `plugin`'s storage holds and may hold; nil when the store cannot say now (the
    /// listing is still given, without it). A short read of one row, on the calling thread.
    private func storage(of plugin: String) -> (bytes: Int64, limit: Int64)? {
        (try? store.pluginStorageUsage(plugin: plugin)).map { ($0, storageLimit) }
    }
}

extension LoadedPlugin {
    func info(showingFile: Bool, storage: (bytes: Int64, limit: Int64)?) -> Convene_Plugins_V1_PluginInfo {
        .with {
            $0.name = name
            $0.version = version
            $0.abiVersion = "1.\(abiMinor)"
            $0.service = service
            $0.methods = methodNames.map { "\(service)/\($0)" }
            $0.events = events
            $0.file = showingFile ? path : ""
            switch status {
            case .serving:
                $0.status = .serving
            case .degraded(let reason):
                $0.status = .degraded
                $0.statusReason = reason
            }
            $0.isolation = isolation.rawValue
            $0.warnings = warnings
            if let storage {
                $0.storageBytes = UInt64(max(storage.bytes, 0))
                $0.storageLimit = UInt64(max(storage.limit, 0))
            }
        }
    }
}
