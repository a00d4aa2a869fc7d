import ArgumentParser
import ConvenePluginHost
import ConvenePostgresStore
import ConveneServer
import ConveneServices
import ConveneTransport
import ConveneWire
import Foundation
import Logging
import ServiceLifecycle

@main
struct Convened: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convened",
        abstract: "The Convene server: consultations of resolution 1353 (2001) over the Convene protocol and standard gRPC.")

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 7353

    @Option(name: .customLong("grpc-port"),
            help: "Port of the standard gRPC (HTTP/2) listener on --host; 0 turns it off.")
    var grpcPort = 7354

    @Option(name: .customLong("metrics-port"),
            help: "Port of the operators' endpoint on --metrics-host: /metrics (Prometheus) and / (status page). Off when not given.")
    var metricsPort: Int?

    @Option(name: .customLong("metrics-host"),
            help: "Address of the operators' endpoint, which has no credential: only your monitoring should reach it (not --host's).")
    var metricsHost = "127.0.0.1"

    @Option(name: .customLong("status-sample-seconds"), help: "Seconds between the status page's samples of the metrics.")
    var statusSampleSeconds: Double = 5

    @Option(name: .customLong("data-dir"), help: "Directory for the server's state (created when missing).")
    var dataDir = "./data"

    @Option(name: .customLong("database"),
            help: ArgumentHelp("PostgreSQL to keep the state in, shared by every server given it: postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=require]. Default: $CONVENE_DATABASE_URL, else SQLite in --data-dir.",
                               valueName: "url"))
    var database: String?

    @Option(name: .customLong("database-pool-size"), help: "Connections to PostgreSQL this server keeps at most.")
    var databasePoolSize = 10

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("shutdown-grace"), help: "Seconds in-flight calls may run after SIGTERM/SIGINT.")
    var shutdownGrace: Double = 10

    @Option(name: .customLong("max-concurrent-streams"), help: "Calls one connection may have open at once.")
    var maxConcurrentStreams: UInt32 = 100

    @Option(name: .customLong("max-message-size"), help: "Largest request message in bytes (after decompression).")
    var maxMessageSize: UInt32 = 4 * 1024 * 1024

    @Option(name: .customLong("report-lead-hours"),
            help: "Hours before a contributors' meeting a Council-requested report must reach the invitees (II.B.5(b)).")
    var reportLeadHours: Double = 48

    @Option(name: .customLong("max-attachment-bytes"), help: "Largest attachment an upload may store (II.B.5(f)).")
    var maxAttachmentBytes: Int64 = 1 << 30

    @Option(name: .customLong("max-watches-per-operation"),
            help: "WatchOperation streams one party may hold open on one operation (each reads every event of it again).")
    var maxWatchesPerOperation: Int = WatchLimits().perOperation

    @Option(name: .customLong("max-watches-per-party"), help: "WatchOperation streams one party may hold open in all.")
    var maxWatchesPerParty: Int = WatchLimits().perParty

    @Option(name: .customLong("plugins-dir"),
            help: "A directory whose *.so are loaded as plugins (repeatable). Default: the plugins built with the server.")
    var pluginsDir: [String] = []

    @Option(name: .customLong("plugin-isolation"),
            help: "Where plugins run: in-process (the server's process), process (each in a runner process of its own), or auto: the plugins built with the server in-process, any other library isolated.")
    var pluginIsolation = "auto"

    @Option(name: .customLong("plugin-isolation-for"),
            help: "NAME=in-process|process: where one plugin (by plugin or library file name) runs (repeatable).")
    var pluginIsolationFor: [String] = []

    @Option(name: .customLong("plugin-sandbox"),
            help: "on: each isolated plugin's process sandboxes itself with Landlock (reads the system's files and its library, writes nothing on disk, cannot signal or trace the server), with what the kernel offers and a warning naming what it does not (Landlock, on an old kernel); require: an isolated plugin that cannot be sandboxed does not start; off: not sandboxed.")
    var pluginSandbox = "on"

    @Option(name: .customLong("plugin-network"),
            help: "deny: a sandboxed plugin's process opens no socket (it reaches no service on this machine or its network); allow: it may open TCP and UDP sockets as the server's machine would.")
    var pluginNetwork = "deny"

    @Option(name: .customLong("plugin-memory-limit"),
            help: "MiB an isolated plugin's process may use before it is ended and restarted.")
    var pluginMemoryLimit = 1024

    @Option(name: .customLong("plugin-storage-limit"),
            help: "MiB one plugin's storage may hold (each key and value, and 64 bytes per key); a call whose writes would pass it commits nothing and fails with RESOURCE_EXHAUSTED.")
    var pluginStorageLimit = 256

    @Option(name: .customLong("plugin-request-bytes"),
            help: "MiB of requests one plugin's calls in flight may hold; a call past it is refused with RESOURCE_EXHAUSTED (a call alone is always taken).")
    var pluginRequestBytes = 64

    @Option(name: .customLong("plugin-concurrency"), help: "Hooks of one plugin that run at once (its threads).")
    var pluginConcurrency = 4

    @Option(name: .customLong("plugin-max-stuck"),
            help: "Hooks a plugin may leave running past their deadline (each gets a new thread); an isolated plugin that reaches it is restarted.")
    var pluginMaxStuck = 16

    @Option(name: .customLong("plugin-ready-timeout"),
            help: "Seconds a plugin's entry point may take before the plugin is reported as failed: an isolated plugin's process is ended; in process, the entry point is left on a thread of its own.")
    var pluginReadyTimeout = 30.0

    @Option(name: .customLong("plugin-call-seconds"),
            help: "Longest a plugin call runs when its caller sets no deadline (a caller's own deadline rules otherwise), and an event reaction or a plugin's call_service may run; on a cluster, also how long (plus 10 s) a dead server's plugin event lease holds others off.")
    var pluginCallSeconds = 30.0

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain; with --tls-key, serve TLS only.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("tls-client-ca"),
            help: "PEM CA certificates; clients must present a certificate they issued (mutual TLS).")
    var tlsClientCA: String?

    @Flag(name: .customLong("enable-interop"), help: "Serve convene.testing.v1.TestService for client interop tests.")
    var enableInterop = false

    @Flag(name: .customLong("open-benchmark"),
          help: "Let anyone call convene.benchmark.v1.Benchmark (a lab); otherwise it needs the administrator's or an operator's credential.")
    var openBenchmark = false

    @Option(name: .customLong("max-buffered-bytes"),
            help: "Budget for buffered protocol data over all connections of both listeners, in bytes (suffix K, M or G). Default: an eighth of the machine's memory, at least 64M.")
    var maxBufferedBytes: String?

    @Option(name: .customLong("max-connections"), help: "Connections over both listeners at once.")
    var maxConnections = 16_384

    @Option(name: .customLong("max-connections-per-address"), help: "Connections from one client address at once.")
    var maxConnectionsPerAddress = 256

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: unknown level '\(logLevel)'")
        }
        MemoryTuning.apply()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "convened")
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        guard (0...65535).contains(grpcPort) else { throw ValidationError("--grpc-port must be 0 to 65535") }
        configuration.grpcPort = grpcPort == 0 ? nil : grpcPort
        if let metricsPort {
            guard (0...65535).contains(metricsPort) else { throw ValidationError("--metrics-port must be 0 to 65535") }
            configuration.metricsPort = metricsPort
            configuration.metricsHost = metricsHost
        }
        guard statusSampleSeconds >= 0.1, statusSampleSeconds <= 3600 else {
            throw ValidationError("--status-sample-seconds must be 0.1 to 3600")
        }
        configuration.statusSampleInterval = .milliseconds(Int64(statusSampleSeconds * 1000))
        configuration.dataDirectory = dataDir
        configuration.database = try databaseChoice()
        configuration.shutdownGrace = .milliseconds(Int(shutdownGrace * 1000))
        configuration.enableInterop = enableInterop
        // Absolute, so that what a refused load names is unambiguous to a client elsewhere.
        if !pluginsDir.isEmpty {
            configuration.pluginDirectories = pluginsDir.map {
                URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
                    .standardizedFileURL.path
            }
        }
        try configurePlugins(&configuration)
        guard reportLeadHours >= 0 else { throw ValidationError("--report-lead-hours must not be negative") }
        configuration.reportLeadTime = .seconds(Int64(reportLeadHours * 3600))
        guard maxAttachmentBytes > 0 else { throw ValidationError("--max-attachment-bytes must be positive") }
        configuration.maxAttachmentSize = maxAttachmentBytes
        guard maxWatchesPerOperation > 0, maxWatchesPerParty >= maxWatchesPerOperation else {
            throw ValidationError("--max-watches-per-operation must be positive, and --max-watches-per-party at least as large")
        }
        configuration.watchLimits = WatchLimits(perOperation: maxWatchesPerOperation, perParty: maxWatchesPerParty)
        switch (tlsCert, tlsKey) {
        case (let cert?, let key?):
            configuration.tls = ServerTLS(certificateChainPath: cert, privateKeyPath: key, clientCAPath: tlsClientCA)
        case (nil, nil):
            if tlsClientCA != nil { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key") }
        default:
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        configuration.openBenchmark = openBenchmark
        if let maxBufferedBytes {
            guard let bytes = Self.byteCount(maxBufferedBytes), bytes >= 1 << 20 else {
                throw ValidationError("--max-buffered-bytes: '\(maxBufferedBytes)' is not a size of at least 1M (e.g. 512M, 2G)")
            }
            configuration.maxBufferedBytes = bytes
        }
        guard maxConnections >= 1, maxConnectionsPerAddress >= 1 else {
            throw ValidationError("--max-connections and --max-connections-per-address must be at least 1")
        }
        configuration.connection.maxConnections = DescriptorLimit.fit(maxConnections: maxConnections, logger: logger)
        configuration.connection.maxConnectionsPerAddress = maxConnectionsPerAddress
        // The connection window holds at least two of the largest messages.
        let window = UInt32(clamping: max(Int(Settings.defaultConnectionWindowSize), 2 * (Int(maxMessageSize) + 5)))
        configuration.connection.settings.connectionWindowSize = window
        configuration.grpc.reservedMessageBytes = max(configuration.grpc.reservedMessageBytes, Int(window))
        configuration.connection.settings.maxConcurrentStreams = maxConcurrentStreams
        configuration.connection.settings.maxMessageSize = maxMessageSize
        configuration.grpc.maxConcurrentStreams = Int(maxConcurrentStreams)
        configuration.grpc.maxMessageSize = maxMessageSize
        let server = try ConveneServer(configuration: configuration, logger: logger)
        logger.info("limits", metadata: [
            "max-buffered-bytes": "\(server.budget.limit)", "max-connections": "\(server.limits.maxConnections)",
            "max-connections-per-address": "\(server.limits.maxPerAddress)",
        ])
        ShutdownWatchdog.arm(grace: configuration.shutdownGrace, logger: logger)
        if case .postgres = configuration.database {
            // The pool, migrations and the listener all need the database: say which at once if it is not there.
            logger.info("using PostgreSQL", metadata: ["database": "\(configuration.database)"])
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: server)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }

    /// --database, else $CONVENE_DATABASE_URL, else SQLite.
    func databaseChoice() throws -> ServerConfiguration.Database {
        let environment = ProcessInfo.processInfo.environment["CONVENE_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        guard let url = database ?? environment else { return .sqlite }
        guard (1...1000).contains(databasePoolSize) else { throw ValidationError("--database-pool-size must be 1 to 1000") }
        do {
            var postgres = try PostgresConfiguration(url: url)
            postgres.maximumConnections = databasePoolSize
            return .postgres(postgres)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func configurePlugins(_ configuration: inout ServerConfiguration) throws {
        let modes = PluginIsolation.allCases.map(\.rawValue).joined(separator: " or ")
        if pluginIsolation != "auto" {
            guard let isolation = PluginIsolation(rawValue: pluginIsolation) else {
                throw ValidationError("--plugin-isolation: '\(pluginIsolation)' is not auto, \(modes)")
            }
            configuration.pluginIsolation = isolation
        }
        for entry in pluginIsolationFor {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let mode = PluginIsolation(rawValue: parts[1]) else {
                throw ValidationError("--plugin-isolation-for: '\(entry)' is not NAME=\(modes)")
            }
            configuration.pluginIsolationOverrides[parts[0]] = mode
        }
        guard let sandbox = RunnerSandbox.Mode(rawValue: pluginSandbox) else {
            throw ValidationError("--plugin-sandbox: '\(pluginSandbox)' is not \(RunnerSandbox.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        configuration.pluginSandbox = sandbox
        guard let network = RunnerSandbox.Network(rawValue: pluginNetwork) else {
            throw ValidationError("--plugin-network: '\(pluginNetwork)' is not \(RunnerSandbox.Network.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        configuration.pluginNetwork = network
        guard pluginMemoryLimit >= 16, pluginMemoryLimit <= 1 << 20 else {
            throw ValidationError("--plugin-memory-limit: MiB from 16 to 1048576")
        }
        configuration.pluginMemoryLimit = pluginMemoryLimit << 20
        guard pluginStorageLimit >= 1, pluginStorageLimit <= 1 << 24 else {
            throw ValidationError("--plugin-storage-limit: MiB from 1 to 16777216")
        }
        configuration.pluginStorageLimit = Int64(pluginStorageLimit) << 20
        guard pluginRequestBytes >= 1, pluginRequestBytes <= 1 << 16 else {
            throw ValidationError("--plugin-request-bytes: MiB from 1 to 65536")
        }
        configuration.pluginRequestBytes = pluginRequestBytes << 20
        guard (1...256).contains(pluginConcurrency), (0...1024).contains(pluginMaxStuck) else {
            throw ValidationError("--plugin-concurrency: 1 to 256; --plugin-max-stuck: 0 to 1024")
        }
        configuration.pluginConcurrency = pluginConcurrency
        configuration.pluginMaxStuck = pluginMaxStuck
        guard pluginCallSeconds >= 0.1, pluginCallSeconds <= 3600 else { throw ValidationError("--plugin-call-seconds: 0.1 to 3600") }
        configuration.pluginMaxCallTime = .milliseconds(Int64(pluginCallSeconds * 1000))
        guard pluginReadyTimeout >= 0.1, pluginReadyTimeout <= 3600 else { throw ValidationError("--plugin-ready-timeout: 0.1 to 3600") }
        configuration.pluginReadyTimeout = .milliseconds(Int64(pluginReadyTimeout * 1000))
    }

    /// "512M", "2G", "65536": bytes; nil when it is not a size.
    static func byteCount(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        let upper = text.uppercased()
        let (digits, unit) = upper.last.flatMap { units[$0] }.map { (upper.dropLast(), $0) } ?? (Substring(upper), 1)
        guard let value = Int(digits), value >= 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : bytes
    }
}
