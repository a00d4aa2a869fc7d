import ArgumentParser
import ConveneClient
import ConveneProtos

struct Plugins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the loaded plugins: name, version, ABI version, methods, events.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = try global.client()
        defer { Task { await client.close() } }
        do {
            let response = try await client.unary(PluginAdministrationMethods.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                                  as: Convene_Plugins_V1_ListPluginsResponse.self, options: global.callOptions)
            for plugin in response.plugins {
                print("\(plugin.name) \(plugin.version) (ABI \(plugin.abiVersion))")
                for method in plugin.methods { print("  method \(method)") }
                for event in plugin.events { print("  event \(event)") }
            }
        } catch {
            throw fail(error)
        }
    }
}
