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
        try router.registerAsyncUnary(M.listPlugins) { (_: Convene_Plugins_V1_ListPluginsRequest, context, _) -> Convene_Plugins_V1_ListPluginsResponse in
            // Where the libraries are on the server is the administrator's business only.
            let administrator = try await auth.caller(context.requestMetadata).isAdministrator
            return .with {
                $0.plugins = host.loaded.map { $0.info(showingFile: administrator) }
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
        try router.registerAsyncUnary(M.loadPlugin) { (request: Convene_Plugins_V1_LoadPluginRequest, context, _) -> Convene_Plugins_V1_PluginInfo in
            try await administrator(context)
            guard !request.path.isEmpty else { throw RPCError(.invalidArgument, "path: required") }
            do {
                return try host.load(path: request.path).info(showingFile: true)
            } catch let error as PluginLoadError {
                throw RPCError(.failedPrecondition, error.description)
            }
        }
        try router.registerAsyncUnary(M.unloadPlugin) { (request: Convene_Plugins_V1_UnloadPluginRequest, context, _) -> Convene_Plugins_V1_UnloadPluginResponse in
            try await administrator(context)
            try await host.unload(name: request.name)
            return Convene_Plugins_V1_UnloadPluginResponse()
        }
        try router.registerAsyncUnary(M.reloadPlugin) { (request: Convene_Plugins_V1_ReloadPluginRequest, context, _) -> Convene_Plugins_V1_PluginInfo in
            try await administrator(context)
            return try await host.reload(name: request.name).info(showingFile: true)
        }
    }
}

extension LoadedPlugin {
    func info(showingFile: Bool) -> Convene_Plugins_V1_PluginInfo {
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
        }
    }
}
