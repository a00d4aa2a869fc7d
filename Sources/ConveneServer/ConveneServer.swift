import ConveneBuiltins
import ConveneProtos
import ConvenePluginHost
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
    public let router = Router()
    public let health = HealthService()
    public let descriptors = DescriptorRegistry()
    public let transport: ServerTransport
    /// Durable state in the data directory.
    public let store: SQLiteStore
    public let events = EventBus()
    public let plugins: PluginHost
    let logger: Logger

    public init(configuration: ServerConfiguration, logger: Logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.configuration = configuration
        self.logger = logger
        self.transport = ServerTransport(router: router, configuration: configuration.connection, group: group,
                                         tls: try configuration.tls?.makeContext(), logger: logger)
        self.store = try SQLiteStore(directory: configuration.dataDirectory)
        try descriptors.add(fileDescriptorSet: ConveneDescriptorSet.bytes)
        try health.register(with: router)
        try ReflectionService(router: router, descriptors: descriptors).register(with: router)
        try BenchmarkService().register(with: router)
        if configuration.enableInterop { try InteropService().register(with: router) }
        try AdministrationService(store: store).register(with: router)
        try ConsultationService(store: store, events: events).register(with: router)
        try BriefingService(store: store, events: events, reportLeadTime: configuration.reportLeadTime,
                            maxAttachmentSize: configuration.maxAttachmentSize).register(with: router)
        try LessonsService(store: store, events: events).register(with: router)
        plugins = PluginHost(router: router,
                             services: ServerPluginServices(store: store, events: events, descriptors: descriptors, health: health),
                             configuration: Self.pluginHostConfiguration(configuration), logger: logger)
        try PluginAdministrationService(host: plugins, auth: Authenticator(store: store)).register(with: router)
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
        host.maxStuckPerPlugin = configuration.pluginMaxStuck
        host.concurrencyPerPlugin = configuration.pluginConcurrency
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

    /// Creates the administrator credential on first start, then listens; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        try await Authenticator.ensureAdministrator(store: store, dataDirectory: configuration.dataDirectory, logger: logger)
        // An upload cut off by a crash was never acknowledged: nothing of it stays.
        let interrupted = try await store.write { db in try db.deleteIncompleteAttachments(olderThan: .max) }
        if interrupted > 0 { logger.info("removed uploads interrupted by a restart", metadata: ["count": "\(interrupted)"]) }
        loadPlugins()
        let address = try await transport.bind(host: configuration.host, port: configuration.port)
        logger.info("convened listening", metadata: [
            "address": "\(address)", "tls": "\(configuration.tls == nil ? "off" : configuration.tls?.clientCAPath == nil ? "on" : "mutual")",
            "data-dir": "\(configuration.dataDirectory)",
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

    /// Stops accepting, tells clients to drain, waits up to the grace period, closes; then
    /// unloads the plugins, waiting for none of their hooks that are stuck.
    public func shutDown() async {
        logger.info("shutting down", metadata: ["grace": "\(configuration.shutdownGrace)"])
        let deadline = ContinuousClock.now.advanced(by: configuration.shutdownGrace)
        health.shutDown()
        await transport.drain(grace: configuration.shutdownGrace)
        await plugins.shutDown(deadline: deadline)
        logger.info("stopped")
    }
}
