import ConveneBuiltins
import ConveneGRPCTransport
import ConveneOperations
import ConveneProtobuf
import ConveneProtos
import ConvenePluginHost
import ConvenePostgresStore
import ConveneRPC
import ConveneServices
import ConveneStore
import ConveneTransport
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The Convene server: a router with the built-in services, served over the transport,
/// run by swift-service-lifecycle with graceful shutdown.
public final class ConveneServer: Service, Sendable {
    public let configuration: ServerConfiguration
    public let router: Router
    /// Metrics (and tracing) of every call, when the operations endpoint or a tracer is configured.
    public let metrics: ServerMetrics?
    /// When the server was made, for the status page.
    let started = Date()
    public let health: HealthService
    public let descriptors = DescriptorRegistry()
    public let transport: ServerTransport
    /// Standard gRPC over HTTP/2 on the same router, when `grpcPort` is set.
    public let grpcTransport: GRPCServerTransport?
    /// Durable state: SQLite in the data directory, or a PostgreSQL database other servers may share.
    public let store: any ServerStore
    public let events = EventBus()
    /// The streams open with each credential, which end when it is revoked (on any server).
    public let revocations = Revocations()
    public let plugins: PluginHost
    /// The budget for buffered protocol data, over both listeners.
    public let budget: MemoryBudget
    /// The connection limits, over both listeners.
    public let limits: ConnectionLimits
    /// Health's watcher (handlers starved, the store), the refusals' log, memory trimming.
    let monitor: ServerMonitor
    let logger: Logger
    private let state = Locked(RunState())

    private struct RunState {
        var address: SocketAddress?
        var grpcAddress: SocketAddress?
        var operationsAddress: SocketAddress?
        var operations: OperationsServer?
    }

    /// Where the operations endpoint is bound, once started.
    public var operationsAddress: SocketAddress? { state.withLock { $0.operationsAddress } }

    /// Where the gRPC listener is bound, once started.
    public var grpcAddress: SocketAddress? { state.withLock { $0.grpcAddress } }

    public init(configuration: ServerConfiguration, logger: Logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.configuration = configuration
        self.logger = logger
        let metrics = configuration.metricsPort != nil || configuration.tracer != nil
            ? ServerMetrics(version: Self.version, tracer: configuration.tracer) : nil
        self.metrics = metrics
        self.router = Router(instrumentation: metrics)
        self.health = HealthService(router: router)
        budget = MemoryBudget(limit: configuration.maxBufferedBytes
            ?? MemoryBudget.defaultLimit(physicalMemory: ProcessInfo.processInfo.physicalMemory))
        limits = ConnectionLimits(maxConnections: configuration.connection.maxConnections,
                                  maxPerAddress: configuration.connection.maxConnectionsPerAddress)
        var native = configuration.connection
        native.budget = budget
        native.limits = limits
        var grpc = configuration.grpc
        grpc.budget = budget
        grpc.limits = limits
        self.transport = ServerTransport(router: router, configuration: native, group: group,
                                         tls: try configuration.tls?.makeContext(), logger: logger, observer: metrics)
        self.grpcTransport = configuration.grpcPort == nil ? nil
            : GRPCServerTransport(router: router, configuration: grpc, group: group,
                                  tls: try configuration.tls?.makeContext(applicationProtocols: ["h2"]), logger: logger,
                                  observer: metrics)
        switch configuration.database {
        case .sqlite: self.store = try SQLiteStore(directory: configuration.dataDirectory)
        case .postgres(let database): self.store = PostgresStore(configuration: database, logger: logger)
        }
        monitor = ServerMonitor(health: health, budget: budget, limits: limits, store: store,
                                dataDirectory: configuration.dataDirectory, logger: logger)
        try descriptors.add(fileDescriptorSet: ConveneDescriptorSet.bytes)
        RequestText.useFieldNames(from: ConveneDescriptorSet.bytes)
        try health.register(with: router)
        try GRPCHealthService(health: health).register(with: router)
        try ReflectionService(router: router, descriptors: descriptors).register(with: router)
        try ServerReflectionService(router: router, descriptors: descriptors).registerBoth(with: router)
        // Who may call what: health and reflection are open; the benchmark needs the
        // administrator's or an operator's credential (or --open-benchmark); every domain
        // service checks its caller itself, and a call to one without a credential is refused
        // as it opens (the transport takes none of its request). Plugin methods check theirs
        // before the plugin runs (PluginDispatch).
        router.setAuthorizer(ServerAuthorizer(store: store, openBenchmark: configuration.openBenchmark))
        router.require(scope: BenchmarkService.requiredScope, forService: BenchmarkMethods.service)
        for service in [AdministrationMethods.service, ConsultationMethods.service, BriefingMethods.service,
                        LessonsMethods.service, PluginAdministrationMethods.service] {
            router.require(scope: ServerAuthorizer.credentialScope, forService: service)
        }
        try BenchmarkService().register(with: router)
        if configuration.enableInterop {
            try InteropService().register(with: router)
            try GRPCInteropService().register(with: router)
        }
        let store = self.store
        if let metrics, let postgres = store as? PostgresStore { postgres.observeRetries { metrics.storeRetried() } }
        let timedStore: any ConveneStore = metrics.map { InstrumentedStore(base: store, metrics: $0, tracer: configuration.tracer,
                                                                                  system: store.isShared ? "postgresql" : "sqlite") } ?? store
        let backend = Backend(store: timedStore, events: events, clock: configuration.clock, revocations: revocations)
        try AdministrationService(backend: backend).register(with: router)
        try ConsultationService(backend: backend, watchLimits: configuration.watchLimits).register(with: router)
        try BriefingService(backend: backend, reportLeadTime: configuration.reportLeadTime,
                            maxAttachmentSize: configuration.maxAttachmentSize).register(with: router)
        try LessonsService(backend: backend).register(with: router)
        plugins = PluginHost(router: router,
                             services: ServerPluginServices(store: store, events: events, descriptors: descriptors, health: health,
                                                            storageLimit: configuration.pluginStorageLimit),
                             configuration: Self.pluginHostConfiguration(configuration), logger: logger)
        try PluginAdministrationService(host: plugins, auth: Authenticator(store: store), store: store,
                                        storageLimit: configuration.pluginStorageLimit).register(with: router)
        // Plugins read their events from the store; a commit only wakes their subscriptions.
        events.observe { [plugins] _ in plugins.eventsCommitted() }
    }

    static func pluginHostConfiguration(_ configuration: ServerConfiguration) -> PluginHost.Configuration {
        var host = PluginHost.Configuration()
        host.allowedDirectories = configuration.pluginDirectories ?? [builtPluginDirectory]
        host.pinDirectory = pinDirectory(configuration)
        host.isolation = configuration.pluginIsolation
        host.isolationOverrides = configuration.pluginIsolationOverrides
        host.memoryLimit = configuration.pluginMemoryLimit
        host.sandbox = configuration.pluginSandbox
        host.network = configuration.pluginNetwork
        host.readyTimeout = configuration.pluginReadyTimeout
        host.maxRequestBytesPerPlugin = configuration.pluginRequestBytes
        host.maxStuckPerPlugin = configuration.pluginMaxStuck
        host.concurrencyPerPlugin = configuration.pluginConcurrency
        host.maxCallTime = configuration.pluginMaxCallTime
        host.trusted = (builtPluginDirectory, builtPluginPrefix)
        host.runnerPath = configuration.pluginRunnerPath
            ?? (builtPluginDirectory as NSString).appendingPathComponent("convene-plugin-runner")
        return host
    }

    /// Private copies of the plugin libraries, made before they are loaded.
    static func pinDirectory(_ configuration: ServerConfiguration) -> String {
        (configuration.dataDirectory as NSString).appendingPathComponent("plugin-libraries")
    }

    /// The plugins built with the server: `libConvenePlugin_*.so` beside the executable.
    public static var builtPluginDirectory: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    /// The file names of the plugins built with the server.
    static let builtPluginPrefix = "libConvenePlugin_"

    func loadPlugins() {
        // Copies left by a server that stopped while loading are of no use.
        let pins = Self.pinDirectory(configuration)
        for file in (try? FileManager.default.contentsOfDirectory(atPath: pins)) ?? [] {
            try? FileManager.default.removeItem(atPath: (pins as NSString).appendingPathComponent(file))
        }
        if let directories = configuration.pluginDirectories {
            plugins.loadAll(directories: directories)
        } else {
            plugins.loadAll(directories: [Self.builtPluginDirectory], matching: Self.builtPluginPrefix)
        }
    }

    /// Opens the store (migrating it, and hearing other servers' commits when it is shared),
    /// creates the administrator credential on first start, and clears interrupted uploads.
    public func prepare() async throws {
        // The data directory holds the administrator's token whatever the store: its owner's only.
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: configuration.dataDirectory)
        try await store.open(signals: StoreSignals(events: events, revoked: { [revocations] in revocations.revoked($0) },
                                                   eventsCommitted: { [plugins] in plugins.eventsCommitted() }))
        try await Authenticator.ensureAdministrator(store: store, dataDirectory: configuration.dataDirectory, logger: logger)
        // An upload cut off by a crash was never acknowledged: nothing of it stays. On a shared
        // store, an upload still in progress may be another server's: only stale ones go.
        let cutoff = store.isShared ? configuration.clock.nowMillis() - Self.staleUploadMillis : .max
        let interrupted = try await store.write { db in try db.deleteIncompleteAttachments(olderThan: cutoff) }
        if interrupted > 0 { logger.info("removed uploads interrupted by a restart", metadata: ["count": "\(interrupted)"]) }
    }

    /// How old an unfinished upload must be for a server sharing the store to remove it at start.
    static let staleUploadMillis: Int64 = 24 * 3600 * 1000

    /// Prepares, then listens; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        try await prepare()
        loadPlugins()
        monitor.publish()
        monitor.start()
        let address = try await transport.bind(host: configuration.host, port: configuration.port)
        if let grpcTransport, let grpcPort = configuration.grpcPort {
            let grpcAddress = try await grpcTransport.bind(host: configuration.host, port: grpcPort)
            state.withLock { $0.grpcAddress = grpcAddress }
            logger.info("gRPC listening", metadata: ["address": "\(grpcAddress)"])
        }
        state.withLock { $0.address = address }
        if let metrics, let port = configuration.metricsPort {
            let operations = OperationsServer(metrics: metrics, status: { [weak self] in self?.status() ?? .unknown },
                                              logger: logger)
            let operationsAddress = try await operations.bind(host: configuration.metricsHost ?? configuration.host, port: port,
                                                              sampleInterval: configuration.statusSampleInterval)
            state.withLock { $0.operations = operations; $0.operationsAddress = operationsAddress }
            logger.info("metrics and status page", metadata: ["address": "\(operationsAddress)"])
        }
        logger.info("convened listening", metadata: [
            "address": "\(address)", "tls": "\(configuration.tls == nil ? "off" : configuration.tls?.clientCAPath == nil ? "on" : "mutual")",
            "data-dir": "\(configuration.dataDirectory)", "database": "\(configuration.database)",
            "methods": "\(router.methods.count)",
        ])
        return address
    }

    /// Serves until graceful shutdown (SIGTERM/SIGINT through the ServiceGroup), then drains.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await shutDown()
    }

    /// Stops accepting, tells clients to drain, waits up to the grace period (`grace`, else the
    /// configured one), closes; then unloads the plugins, waiting for none of their hooks that
    /// are stuck, and closes the store.
    public func shutDown(grace: Duration? = nil) async {
        let grace = grace ?? configuration.shutdownGrace
        logger.info("shutting down", metadata: ["grace": "\(grace)"])
        let deadline = ContinuousClock.now.advanced(by: grace)
        monitor.stop()
        health.shutDown()
        async let native: Void = transport.drain(grace: grace)
        async let grpc: Void? = grpcTransport?.drain(grace: grace)
        _ = await (native, grpc)
        await plugins.shutDown(deadline: deadline)
        await state.withLock { $0.operations }?.close()
        await store.close()
        logger.info("stopped")
    }

    /// The release this server is.
    public static let version = "1.1.0"

    /// What the status page shows of the server itself.
    func status() -> ServerStatus {
        let (address, grpcAddress) = state.withLock { ($0.address, $0.grpcAddress) }
        var listeners: [ServerStatus.Listener] = []
        func text(_ address: SocketAddress) -> String { "\(address.ipAddress ?? "?"):\(address.port ?? 0)" }
        if let address { listeners.append(.init(name: "native", address: text(address))) }
        if let grpcAddress { listeners.append(.init(name: "grpc", address: text(grpcAddress))) }
        let plugins = plugins.loaded.map { ServerStatus.Plugin(name: $0.name, version: $0.version, state: "serving",
                                                               detail: $0.service) }
        return ServerStatus(version: Self.version, started: started, listeners: listeners, plugins: plugins)
    }
}

extension ServerStatus {
    static let unknown = ServerStatus(version: ConveneServer.version, started: Date(), listeners: [], plugins: [])
}
