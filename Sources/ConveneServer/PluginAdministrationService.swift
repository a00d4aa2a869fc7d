import ConveneDomain
import ConvenePluginHost
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneServices
import ConveneStore
import SwiftProtobuf

/// Lists loaded plugins (anyone) and loads, unloads and reloads them (administrators).
struct PluginAdministrationService: Sendable {
    let host: PluginHost
    let auth: Authenticator

    func administrator(_ context: ServerCallContext) async throws {
        let caller = try await auth.caller(context.requestMetadata)
        guard caller.isAdministrator else {
            throw RPCError(.permissionDenied, "only an administrator may call \(context.method.description)")
        }
    }

    func register(with router: Router) throws {
        typealias M = PluginAdministrationMethods
        try router.registerUnary(M.listPlugins) { [host] (_: Convene_Plugins_V1_ListPluginsRequest, _) -> Convene_Plugins_V1_ListPluginsResponse in
            .with { $0.plugins = host.loaded.map(\.info) }
        }
        try router.registerAsyncUnary(M.loadPlugin) { (request: Convene_Plugins_V1_LoadPluginRequest, context, _) -> Convene_Plugins_V1_PluginInfo in
            try await administrator(context)
            guard !request.path.isEmpty else { throw RPCError(.invalidArgument, "path: required") }
            do {
                return try host.load(path: request.path).info
            } catch {
                throw RPCError(.failedPrecondition, "\(error)")
            }
        }
        try router.registerAsyncUnary(M.unloadPlugin) { (request: Convene_Plugins_V1_UnloadPluginRequest, context, _) -> Convene_Plugins_V1_UnloadPluginResponse in
            try await administrator(context)
            try await host.unload(name: request.name)
            return Convene_Plugins_V1_UnloadPluginResponse()
        }
        try router.registerAsyncUnary(M.reloadPlugin) { (request: Convene_Plugins_V1_ReloadPluginRequest, context, _) -> Convene_Plugins_V1_PluginInfo in
            try await administrator(context)
            return try await host.reload(name: request.name).info
        }
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
