import ConveneGRPCTransport
import ConvenePluginHost
import ConvenePostgresStore
import ConveneServices
import Tracing
import ConveneTransport

/// Everything `convened` can be told at start.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 7353
    /// Where the server keeps its state (the SQLite store, the administrator's first token);
    /// created when missing.
    public var dataDirectory = "./data"
    /// The store: SQLite in the data directory, or a PostgreSQL database (shared by a cluster).
    public var database = Database.sqlite
    /// The native listener's limits; its `maxConnections` and `maxConnectionsPerAddress`
    /// are the server's, over both listeners.
    public var connection = ConnectionConfiguration()
    /// The budget for buffered protocol data over every connection of both listeners
    /// (`--max-buffered-bytes`); nil: an eighth of the machine's memory, at least 64 MiB.
    public var maxBufferedBytes: Int? = nil
    /// Port of the standard gRPC (HTTP/2) listener on `host`; nil serves none, 0 picks a free port.
    public var grpcPort: Int? = nil
    public var grpc = GRPCServerConfiguration()
    /// Port of the operators' endpoint (`/metrics` in the Prometheus format, `/` the status page);
    /// nil serves none (and keeps no metrics), 0 picks a free port.
    public var metricsPort: Int? = nil
    /// Where that endpoint listens; nil: `host`.
    public var metricsHost: String? = nil
    /// How often the status page samples the metrics (its rates and plot are over these intervals).
    public var statusSampleInterval: Duration = .seconds(5)
    /// Spans for every call, store transaction and plugin call (W3C trace context is read from
    /// call metadata by the tracer); nil traces nothing.
    public var tracer: (any Tracer)? = nil
    /// TLS (and mutual TLS when it names a client CA) on every connection; nil serves plaintext.
    public var tls: ServerTLS? = nil
    /// How long in-flight calls may run after a shutdown signal before they are cut off.
    public var shutdownGrace: Duration = .seconds(10)
    /// Serve convene.testing.v1.TestService, for partners testing their clients.
    public var enableInterop = false
    /// Let anyone call the benchmark service (a lab); otherwise it needs the administrator's
    /// credential or that of a party with the OPERATOR role.
    public var openBenchmark = false
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
    /// Whether an isolated plugin's process sandboxes itself (`RunnerSandbox`).
    public var pluginSandbox = RunnerSandbox.Mode.on
    /// Whether a sandboxed plugin's process may open network sockets (`RunnerSandbox.Network`).
    public var pluginNetwork = RunnerSandbox.Network.deny
    /// Bytes one plugin's storage may hold (`PluginStorageUsage`): a call whose writes would
    /// take it past this commits nothing and fails with RESOURCE_EXHAUSTED.
    public var pluginStorageLimit: Int64 = 256 << 20
    /// Request bytes one plugin's calls in flight may hold: a call past it is refused with
    /// RESOURCE_EXHAUSTED rather than queued (callers could otherwise make the server hold
    /// requests without bound for a slow or hung plugin, and fill an isolated one's connection).
    public var pluginRequestBytes = 64 << 20
    /// How long an isolated plugin's process may take to be ready (its entry point run);
    /// one that takes longer is ended, and its plugin reported as failed.
    public var pluginReadyTimeout: Duration = .seconds(30)
    /// Hooks a plugin may leave running past their deadline (each then gets a new thread); an
    /// isolated plugin that reaches it is ended and restarted.
    public var pluginMaxStuck = 16
    /// Hooks of one plugin that run at once (its threads).
    public var pluginConcurrency = 4
    /// Longest a plugin call or event reaction may run (with 10 s, how long a plugin's event
    /// delivery lease lasts unrenewed: how soon another server of a cluster takes over).
    public var pluginMaxCallTime: Duration = .seconds(30)
    /// The runner executable for isolated plugins; nil: `convene-plugin-runner` beside the server.
    public var pluginRunnerPath: String? = nil
    /// How long before a contributors' meeting a Council-requested report must reach the invitees (II.B.5(b)).
    public var reportLeadTime: Duration = .seconds(48 * 3600)
    /// Largest attachment an upload may store (II.B.5(f)); beyond it the upload is refused and removed.
    public var maxAttachmentSize: Int64 = 1 << 30
    /// How many WatchOperation streams a party may hold open, on one operation and in all.
    public var watchLimits = WatchLimits()
    /// The time of day the services record and judge by (tests set a manual clock).
    public var clock: any WallClock = SystemClock()

    public init() {}

    public enum Database: Sendable, CustomStringConvertible {
        case sqlite
        case postgres(PostgresConfiguration)

        public var description: String {
            switch self {
            case .sqlite: "sqlite"
            case .postgres(let configuration): configuration.redacted
            }
        }
    }
}
