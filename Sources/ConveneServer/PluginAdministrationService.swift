import ConveneDomain
import ConvenePluginHost
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneServices
import ConveneStore
import SwiftProtobuf

/// Lists loaded plugins (anyone) and loads, unloads and reloads them (administrators).
struct PluginAdministrationService: PluginAdministrationServiceProtocol {
    let host: PluginHost
    let auth: Authenticator

    func administrator(_ context: ServerCallContext) async throws {
        try PartyRules.checkAdministrator(try await auth.caller(context.requestMetadata), calling: context.method.description)
    }

    func listPlugins(_ request: Convene_Plugins_V1_ListPluginsRequest,
                     context: inout UnaryContext) throws -> Convene_Plugins_V1_ListPluginsResponse {
        .with { $0.plugins = host.loaded.map(\.info) }
    }

    func loadPlugin(_ request: Convene_Plugins_V1_LoadPluginRequest, context: ServerCallContext) async throws -> Convene_Plugins_V1_PluginInfo {
        try await administrator(context)
        guard !request.path.isEmpty else { throw RPCError(.invalidArgument, "path: required") }
        do {
            return try host.load(path: request.path).info
        } catch {
            throw RPCError(.failedPrecondition, "\(error)")
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
        return try await host.reload(name: request.name).info
    }
}

extension LoadedPlugin {
    var info: Convene_Plugins_V1_PluginInfo {
        .with {
            $0.name = name
            $0.version = version
            $0.abiVersion = "1.\(abiMinor)"
            $0.service = service
            $0.methods = methodNames.map { "\(service)/\($0)" }
            $0.events = events
            $0.file = path
        }
    }
}
