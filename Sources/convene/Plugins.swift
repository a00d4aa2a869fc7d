import ArgumentParser
import ConveneClient
import ConveneProtos

struct Plugins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the loaded plugins: name, version, ABI version, status, isolation, methods, events; and libraries that failed.",
        discussion: "Needs a credential (--token or --token-file); files on the server are shown to administrators only.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = try global.client()
        defer { Task { await client.close() } }
        do {
            let response = try await client.unary(PluginAdministrationMethods.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                                  as: Convene_Plugins_V1_ListPluginsResponse.self, options: global.callOptions)
            for plugin in response.plugins {
                let status = plugin.status == .degraded ? "DEGRADED: \(plugin.statusReason)" : "serving"
                print("\(plugin.name) \(plugin.version) (ABI \(plugin.abiVersion)) \(status), \(plugin.isolation)")
                if !plugin.file.isEmpty { print("  file \(plugin.file)") }
                for warning in plugin.warnings { print("  warning \(warning)") }
                for method in plugin.methods { print("  method \(method)") }
                for event in plugin.events { print("  event \(event)") }
            }
            for failure in response.failures {
                print("FAILED \(failure.library): \(failure.reason)")
            }
        } catch {
            throw fail(error)
        }
    }
}
