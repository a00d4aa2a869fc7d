import ConvenePluginHost
import ConveneTransport

/// Everything `convened` can be told at start.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 7353
    /// Where the server keeps its state; created when missing.
    public var dataDirectory = "./data"
    public var connection = ConnectionConfiguration()
    /// TLS (and mutual TLS when it names a client CA) on every connection; nil serves plaintext.
    public var tls: ServerTLS? = nil
    /// How long in-flight calls may run after a shutdown signal before they are cut off.
    public var shutdownGrace: Duration = .seconds(10)
    /// Serve convene.testing.v1.TestService, for partners testing their clients.
    public var enableInterop = false
    /// Directories whose `*.so` are loaded as plugins at start. nil: the plugins built with
    /// the server (`libConvenePlugin_*.so` beside the executable).
    public var pluginDirectories: [String]? = nil
    /// Where plugins run: in the server's process, or each in a runner process of its own
    /// (see Docs/PLUGINS.md, "Isolation"); nil: the plugins built with the server in its
    /// process, every other library isolated. Per plugin (or library file name) overrides.
    public var pluginIsolation: PluginIsolation? = nil
    public var pluginIsolationOverrides: [String: PluginIsolation] = [:]
    /// Memory an isolated plugin's process may use before it is ended (and restarted).
    public var pluginMemoryLimit = 1 << 30
    /// Hooks a plugin may leave running past their deadline (each then gets a new thread); an
    /// isolated plugin that reaches it is ended and restarted.
    public var pluginMaxStuck = 16
    /// Hooks of one plugin that run at once (its threads).
    public var pluginConcurrency = 4
    /// The runner executable for isolated plugins; nil: `convene-plugin-runner` beside the server.
    public var pluginRunnerPath: String? = nil
    /// How long before a contributors' meeting a Council-requested report must reach the invitees (II.B.5(b)).
    public var reportLeadTime: Duration = .seconds(48 * 3600)
    /// Largest attachment an upload may store (II.B.5(f)); beyond it the upload is refused and removed.
    public var maxAttachmentSize: Int64 = 1 << 30

    public init() {}
}
