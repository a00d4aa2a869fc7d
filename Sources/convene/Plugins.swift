import ArgumentParser
import ConveneClient
import ConveneDomain
import ConveneProtos
import ConveneTransport
import Foundation

/// `convene plugins`: the server's plugins (list, load, unload, reload) and the event kinds they may subscribe to.
struct Plugins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The server's plugins: list (the default), load, unload, reload; and the events a plugin may subscribe to.",
        subcommands: [ListPlugins.self, LoadPlugin.self, UnloadPlugin.self, ReloadPlugin.self, PluginEvents.self],
        defaultSubcommand: ListPlugins.self)
}

struct ListPlugins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the loaded plugins: name, version, ABI version, status, isolation, methods, events; and libraries that failed.",
        discussion: "Needs a credential (--token or --token-file); files on the server are shown to administrators only.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let response = try await administration(global) { client, options in
            try await client.unary(PluginAdministrationMethods.listPlugins, Convene_Plugins_V1_ListPluginsRequest(),
                                   as: Convene_Plugins_V1_ListPluginsResponse.self, options: options)
        }
        for plugin in response.plugins { printPlugin(plugin) }
        for failure in response.failures {
            print("FAILED \(failure.library): \(failure.reason)")
        }
    }
}

struct LoadPlugin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load a plugin library (administrators).",
        discussion: """
        PATH must be inside one of the server's --plugins-dir directories. A relative PATH is \
        resolved against this command's working directory before it is sent, so name a library \
        on the server's machine.
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The plugin's shared library (.so).")
    var path: String

    func run() async throws {
        let request = Convene_Plugins_V1_LoadPluginRequest.with { $0.path = absolutePath(path) }
        let plugin = try await administration(global) { client, options in
            try await client.unary(PluginAdministrationMethods.loadPlugin, request,
                                   as: Convene_Plugins_V1_PluginInfo.self, options: options)
        }
        printPlugin(plugin)
    }
}

struct UnloadPlugin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unload",
        abstract: "Unload a plugin by name (administrators): routing stops, its calls in flight are answered, then it is unloaded.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The plugin's name, as `convene plugins` lists it.")
    var name: String

    func run() async throws {
        let request = Convene_Plugins_V1_UnloadPluginRequest.with { $0.name = name }
        _ = try await administration(global) { client, options in
            try await client.unary(PluginAdministrationMethods.unloadPlugin, request,
                                   as: Convene_Plugins_V1_UnloadPluginResponse.self, options: options)
        }
        print("unloaded \(name)")
    }
}

struct ReloadPlugin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Unload a plugin and load it again (administrators): from its file (a rebuilt library runs its new code), or from PATH.",
        discussion: "A relative PATH is resolved against this command's working directory before it is sent.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The plugin's name.")
    var name: String

    @Argument(help: "A library to load in its place (inside the server's --plugins-dir directories).")
    var path: String?

    func run() async throws {
        let request = Convene_Plugins_V1_ReloadPluginRequest.with {
            $0.name = name
            if let path { $0.path = absolutePath(path) }
        }
        let plugin = try await administration(global) { client, options in
            try await client.unary(PluginAdministrationMethods.reloadPlugin, request,
                                   as: Convene_Plugins_V1_PluginInfo.self, options: options)
        }
        printPlugin(plugin)
    }
}

struct PluginEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Every event kind a plugin may subscribe to: what its subject_id names and the provision it records.",
        discussion: """
        The payload of every kind is a serialized convene.consultation.v1.OperationEvent. A plugin may \
        also subscribe to "*" (every kind). Needs no server: the list is this build's own.
        """)

    /// Accepted like every command's, though the list needs no server.
    @OptionGroup var global: GlobalOptions

    func run() throws {
        print(eventCatalog(), terminator: "")
    }
}

/// The event catalog as a table: kind, subject, provision (Docs/PLUGINS.md holds the same text).
func eventCatalog() -> String {
    let kinds = OperationEventKind.allCases
    let kindWidth = kinds.map(\.rawValue.count).max() ?? 0
    let subjectWidth = kinds.map(\.subject.count).max() ?? 0
    func row(_ kind: String, _ subject: String, _ provision: String) -> String {
        kind.padding(toLength: kindWidth + 2, withPad: " ", startingAt: 0)
            + subject.padding(toLength: subjectWidth + 2, withPad: " ", startingAt: 0) + provision + "\n"
    }
    return row("KIND", "SUBJECT_ID NAMES", "PROVISION")
        + kinds.map { row($0.rawValue, $0.subject, $0.provision) }.joined()
}

/// A path made absolute against the working directory, `..` and `.` removed.
func absolutePath(_ path: String) -> String {
    URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
        .standardizedFileURL.path
}

/// One call on the administration service; a failure is printed as `CODE: message` (exit 2).
func administration<Response>(_ global: GlobalOptions,
                              _ body: (ConveneClient, CallOptions) async throws -> Response) async throws -> Response {
    let client = try global.client()
    defer { Task { await client.close() } }
    do {
        return try await body(client, global.callOptions)
    } catch {
        throw fail(error)
    }
}

func printPlugin(_ plugin: Convene_Plugins_V1_PluginInfo) {
    let status = plugin.status == .degraded ? "DEGRADED: \(plugin.statusReason)" : "serving"
    print("\(plugin.name) \(plugin.version) (ABI \(plugin.abiVersion)) \(status), \(plugin.isolation)")
    if !plugin.file.isEmpty { print("  file \(plugin.file)") }
    if plugin.storageLimit > 0 {
        let percent = Double(plugin.storageBytes) * 100 / Double(plugin.storageLimit)
        print("  storage \(plugin.storageBytes) of \(plugin.storageLimit) bytes (\(String(format: "%.1f", percent))%)")
    }
    for warning in plugin.warnings { print("  warning \(warning)") }
    for method in plugin.methods { print("  method \(method)") }
    for event in plugin.events { print("  event \(event)") }
}
