import ConvenePluginABI
import ConveneRPC
import Foundation
import Logging
import NIOCore
import SwiftProtobuf

/// Loads plugins, serves their methods through the router, and delivers domain events to
/// them. Each plugin runs on threads of its own (in the server's process) or in a runner
/// process of its own, never on an event loop nor on the shared Swift task pool; a call
/// past its deadline is answered at once and leaves nothing that other calls need.
public final class PluginHost: Sendable {
    public struct Configuration: Sendable {
        /// Hooks of one plugin that run at once (its threads).
        public var concurrencyPerPlugin = 4
        /// Hooks one plugin may leave running past their deadline and still get new threads for.
        public var maxStuckPerPlugin = 16
        /// Longest a plugin call may take when the caller set no deadline (and an event delivery).
        public var maxCallTime: Duration = .seconds(30)
        /// Longest an unload waits for the calls in flight to be answered.
        public var drainTime: Duration = .seconds(30)
        /// How long a hook may run on after its call was abandoned before its plugin is degraded.
        public var stuckGrace: Duration = .milliseconds(500)
        /// When set, only libraries inside these directories are loaded (symlinks and `..` resolved).
        public var allowedDirectories: [String]? = nil
        /// Where a library is copied before it is loaded (nil: loaded in place).
        public var pinDirectory: String? = nil
        /// Where plugins run unless `isolationOverrides` names them (by plugin or file name);
        /// nil: the `trusted` libraries in the server's process, every other one isolated
        /// (convened's default; isolation needs `runnerPath` and `pinDirectory`).
        public var isolation: PluginIsolation? = .inProcess
        public var isolationOverrides: [String: PluginIsolation] = [:]
        /// The libraries trusted like the server's own code (the plugins built with it): a
        /// directory, and the start of their file names.
        public var trusted: (directory: String, prefix: String)? = nil
        /// The `convene-plugin-runner` executable for isolated plugins.
        public var runnerPath: String? = nil
        /// Memory an isolated plugin's process may use before it is ended and restarted.
        public var memoryLimit: Int = 1 << 30
        /// Whether an isolated plugin's process sandboxes itself (`RunnerSandbox`).
        public var sandbox = RunnerSandbox.Mode.on
        /// Whether a sandboxed plugin's process may open network sockets.
        public var network = RunnerSandbox.Network.deny
        /// How long an isolated plugin's process may take to be ready (its entry point run).
        public var readyTimeout: Duration = .seconds(30)
        /// The most request bytes one plugin's calls in flight may hold (`PluginActivity`).
        public var maxRequestBytesPerPlugin = PluginActivity.defaultMaxRequestBytes
        public init() {}
    }

    let router: Router
    let services: any PluginServices
    let configuration: Configuration
    let logger: Logger
    private let plugins = Locked<[String: LoadedPlugin]>([:])
    private let failed = Locked<[String: PluginFailure]>([:])
    private let watchdog: Watchdog
    /// Serves the plugins' calls (see `PluginDispatch` for why it is not the host itself).
    let dispatch: PluginDispatch

    public init(router: Router, services: any PluginServices, configuration: Configuration = Configuration(), logger: Logger) {
        self.router = router
        self.services = services
        self.configuration = configuration
        self.logger = logger
        dispatch = PluginDispatch(services: services, maxCallTime: configuration.maxCallTime)
        HostAPI.misuseLogger.withLock { $0 = logger }
        watchdog = Watchdog()
        watchdog.start { [weak self] in
            guard let self else { return false }
            self.checkHealth()
            return true
        }
    }

    public var loaded: [LoadedPlugin] {
        plugins.withLock { Array($0.values) }.sorted { $0.name < $1.name }
    }

    /// Libraries that could not be loaded (at start or since), by file.
    public var failures: [PluginFailure] {
        failed.withLock { Array($0.values) }.sorted { $0.path < $1.path }
    }

    /// Loads every `*.so` in the directories; a library that fails is logged, listed in
    /// `failures` and skipped. Returns the errors.
    @discardableResult
    public func loadAll(directories: [String], matching prefix: String = "") -> [PluginLoadError] {
        var errors: [PluginLoadError] = []
        for directory in directories {
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
            for file in files where file.hasSuffix(".so") && file.hasPrefix(prefix) {
                let path = (directory as NSString).appendingPathComponent(file)
                do {
                    let plugin = try load(path: path)
                    logger.info("plugin loaded", metadata: ["plugin": "\(plugin.name)", "version": "\(plugin.version)",
                                                            "file": "\(path)", "methods": "\(plugin.methodNames.count)",
                                                            "isolation": "\(plugin.isolation.rawValue)"])
                } catch let error as PluginLoadError {
                    logger.error("plugin refused", metadata: ["reason": "\(error)"])
                    errors.append(error)
                } catch {
                    logger.error("plugin refused", metadata: ["file": "\(path)", "reason": "\(error)"])
                }
            }
        }
        return errors
    }

    /// The resolved path of a library the host may load, or PERMISSION_DENIED naming the
    /// directories it loads from. (Loading then reads the file only if it is still there,
    /// `PluginLibrary.pin`: a folder swapped for a symlink meanwhile is refused.)
    public func allowedPath(_ path: String) throws(RPCError) -> String {
        let resolved = Self.resolve(path)
        guard let directories = configuration.allowedDirectories else { return resolved }
        for directory in directories {
            let root = Self.resolve(directory)
            // Byte by byte: String comparison would take canonically equivalent names as one.
            let prefix = root.hasSuffix("/") ? root : root + "/"
            if resolved.utf8.starts(with: prefix.utf8) { return resolved }
        }
        throw RPCError(.permissionDenied, "\(path): plugins are loaded only from \(directories.joined(separator: ", ")) (--plugins-dir)")
    }

    /// The path with symlinks and `..` resolved (of its folder, when the file does not exist).
    static func resolve(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        if let real = realpath(absolute, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        let folder = (absolute as NSString).deletingLastPathComponent
        guard let real = realpath(folder, nil) else { return (absolute as NSString).standardizingPath }
        defer { free(real) }
        return (String(cString: real) as NSString).appendingPathComponent((absolute as NSString).lastPathComponent)
    }

    /// Loads one library: where it may come from, its isolation, the ABI handshake, its
    /// methods in the router, its event subscription.
    @discardableResult
    public func load(path: String) throws -> LoadedPlugin {
        let resolved = try allowedPath(path)
        do {
            let plugin = try start(resolved)
            _ = failed.withLock { $0.removeValue(forKey: resolved) }
            return plugin
        } catch let error as PluginLoadError {
            failed.withLock { $0[resolved] = PluginFailure(path: resolved, reason: error.description) }
            throw error
        }
    }

    private func start(_ path: String) throws -> LoadedPlugin {
        let engine = try makeEngine(path)
        var pluginLogger = logger
        pluginLogger[metadataKey: "plugin"] = "\(engine.manifest.name)"
        for warning in engine.manifest.warnings {
            pluginLogger.warning("plugin loaded with a warning", metadata: ["file": "\(path)", "warning": "\(warning)"])
        }
        let environment = PluginEnvironment(name: engine.manifest.name, services: services,
                                            invoker: RouterInvoker(router: router, services: services, timeout: configuration.maxCallTime),
                                            logger: pluginLogger)
        let plugin = LoadedPlugin(engine: engine, environment: environment, dispatch: dispatch,
                                  maxRequestBytes: configuration.maxRequestBytesPerPlugin)
        // Set before the plugin is shared (through the table's lock); started once it is registered.
        if !plugin.events.isEmpty { plugin.delivery = EventDelivery(plugin: plugin, host: dispatch) }
        let duplicate = plugins.withLock { table -> Bool in
            if table[plugin.name] != nil { return true }
            table[plugin.name] = plugin
            return false
        }
        if duplicate {
            engine.stop(unload: true)
            throw PluginLoadError.duplicateName(path: path, name: plugin.name)
        }
        do {
            if !plugin.descriptorSet.isEmpty {
                let set: Google_Protobuf_FileDescriptorSet
                do {
                    set = try Google_Protobuf_FileDescriptorSet(serializedBytes: plugin.descriptorSet)
                } catch {
                    throw PluginLoadError.badDescriptor(path: path,
                        reason: "descriptor_set is not a serialized google.protobuf.FileDescriptorSet (\(error))")
                }
                if let problem = DescriptorNames.problem(in: set) {
                    throw PluginLoadError.badDescriptor(path: path, reason: "descriptor_set: \(problem)")
                }
                try services.registerDescriptors(plugin.descriptorSet, plugin: plugin.name, service: plugin.service)
            }
            for (index, method) in plugin.manifest.methods.enumerated() { try register(method, index: index, of: plugin) }
            try plugin.delivery?.start()
        } catch {
            plugin.delivery?.stop()
            router.unregisterAll(owner: owner(plugin.name))
            services.unregisterDescriptors(plugin: plugin.name)
            _ = plugins.withLock { $0.removeValue(forKey: plugin.name) }
            engine.stop(unload: true)
            throw (error as? PluginLoadError) ?? PluginLoadError.methodConflict(path: path, reason: (error as? RPCError)?.message ?? "\(error)")
        }
        services.setServing(true, service: plugin.service)
        return plugin
    }

    private func makeEngine(_ path: String) throws(PluginLoadError) -> any PluginEngine {
        let file = (path as NSString).lastPathComponent
        let stem = file.hasSuffix(".so") ? String(file.dropLast(3)) : file
        let byFile = [file, stem, stem.hasPrefix("lib") ? String(stem.dropFirst(3)) : stem]
            .lazy.compactMap { self.configuration.isolationOverrides[$0] }.first
        let inProcess = { () throws(PluginLoadError) -> any PluginEngine in
            try InProcessEngine(path: path, pinDirectory: self.configuration.pinDirectory,
                                concurrency: self.configuration.concurrencyPerPlugin,
                                maxStuck: self.configuration.maxStuckPerPlugin, readyTimeout: self.configuration.readyTimeout,
                                logger: self.logger)
        }
        if byFile == .inProcess { return try inProcess() }
        let fallback = configuration.isolation ?? (isTrusted(path) ? .inProcess : .process)
        // Isolated by default or by an override naming the plugin: its name comes from a runner
        // process (never from running its entry point in the server).
        let probe = byFile == .process || fallback == .process || configuration.isolationOverrides.values.contains(.process)
        guard probe else { return try inProcess() }
        let isolated = try ProcessEngine.start(path: path, host: self) as any PluginEngine
        let wanted = byFile ?? configuration.isolationOverrides[isolated.manifest.name] ?? fallback
        if wanted == .process { return isolated }
        isolated.stop(unload: true)
        // In process because of the name it gave in the runner: it must give the same one here
        // (else a library could name itself after a plugin trusted in process, and be another).
        let engine = try inProcess()
        guard engine.manifest.name == isolated.manifest.name, engine.manifest.methods == isolated.manifest.methods else {
            engine.stop(unload: true)
            throw .badDescriptor(path: path, reason: "it described itself as \(isolated.manifest.name) in a runner process and as \(engine.manifest.name) in the server")
        }
        return engine
    }

    /// Whether `path` (resolved) is one of the libraries built with the server.
    func isTrusted(_ path: String) -> Bool {
        guard let trusted = configuration.trusted else { return false }
        let directory = Self.resolve(trusted.directory)
        return (path as NSString).deletingLastPathComponent == directory
            && (path as NSString).lastPathComponent.hasPrefix(trusted.prefix)
    }

    func owner(_ name: String) -> String { "plugin:\(name)" }

    private func register(_ method: PluginManifest.Method, index: Int, of plugin: LoadedPlugin) throws {
        let descriptor = MethodDescriptor(service: plugin.service, method: method.name, kind: .unary,
                                          inputType: method.inputType, outputType: method.outputType)
        let served = PluginMethod(plugin: plugin, index: index, method: method)
        try router.register(descriptor, owner: owner(plugin.name), .deferredUnary { [dispatch] request, context, completion in
            dispatch.call(served, request: request, context: context, completion: completion)
        })
    }

    /// Stops routing to a plugin, ends its event subscription, waits for its calls in flight
    /// to be answered (up to the drain time), and unloads it (calling `on_unload`) unless a
    /// hook still runs. Throws NOT_FOUND for an unknown name.
    public func unload(name: String, drainUntil: ContinuousClock.Instant? = nil) async throws {
        guard let plugin = plugins.withLock({ $0.removeValue(forKey: name) }) else {
            throw RPCError(.notFound, "no plugin named '\(name)' is loaded")
        }
        router.unregisterAll(owner: owner(name))
        plugin.delivery?.stop()
        let deadline = drainUntil ?? ContinuousClock.now.advanced(by: configuration.drainTime)
        while plugin.activity.all.contains(where: { $0.isDraining(at: .now) }), ContinuousClock.now < deadline {
            // No longer ticked by the watchdog: answers held behind a hook that overran go now.
            plugin.engine.releaseHeldAnswers()
            await pause(for: .milliseconds(10))
        }
        plugin.engine.releaseHeldAnswers()
        for ticket in plugin.activity.all {
            ticket.abandon(RPCError(.unavailable, "plugin \(name) was unloaded"))
        }
        let idle = plugin.activity.count == 0
        // `on_unload` is the plugin's code: it may hang. Waited for until the drain deadline
        // (a short while at least), never longer: shutdown stays bounded.
        let limit = max(deadline - ContinuousClock.now, Self.minimumUnloadWait)
        let engine = plugin.engine
        if await !Self.finishes(within: limit, { engine.stop(unload: idle) }) {
            logger.error("plugin did not finish unloading in time (its on_unload still runs); left behind",
                         metadata: ["plugin": "\(name)", "waited": "\(limit)"])
        }
        services.setServing(nil, service: plugin.service)
        services.unregisterDescriptors(plugin: name)
        if idle {
            logger.info("plugin unloaded", metadata: ["plugin": "\(name)", "isolation": "\(plugin.isolation.rawValue)"])
        } else {
            logger.warning("plugin unloaded while hooks still run (stuck past their deadline): on_unload skipped, library left mapped",
                           metadata: ["plugin": "\(name)", "running": "\(plugin.activity.count)"])
        }
    }

    /// How long an unload waits for the plugin's engine to stop when its drain time is spent.
    static let minimumUnloadWait: Duration = .milliseconds(200)

    /// Runs `body` on a thread of its own; whether it returned within `limit` (if not, it
    /// runs on, and is no longer waited for).
    static func finishes(within limit: Duration, _ body: @escaping @Sendable () -> Void) async -> Bool {
        let done = Locked(false)
        let thread = Thread {
            body()
            done.withLock { $0 = true }
        }
        thread.name = "plugin unload"
        thread.start()
        let until = ContinuousClock.now.advanced(by: limit)
        while !done.withLock({ $0 }) {
            guard ContinuousClock.now < until else { return false }
            await pause(for: .milliseconds(5))
        }
        return true
    }

    /// Unloads and loads again from the same file (a new copy of it: rebuilt code is new code).
    public func reload(name: String) async throws -> LoadedPlugin {
        guard let (path, service) = plugins.withLock({ $0[name].map { ($0.path, $0.service) } }) else {
            throw RPCError(.notFound, "no plugin named '\(name)' is loaded")
        }
        // Callers meanwhile are told to try again, not that the service does not exist.
        router.away(service: service, reason: "plugin \(name) is reloading; try again")
        defer { router.back(service: service) }
        try await unload(name: name)
        do {
            return try load(path: path)
        } catch let error as PluginLoadError {
            throw RPCError(.failedPrecondition, error.description)
        }
    }

    /// Unloads every plugin, waiting for calls in flight until `deadline` at most; hooks
    /// stuck past their deadline are not waited for.
    public func shutDown(deadline: ContinuousClock.Instant? = nil) async {
        let until = deadline ?? ContinuousClock.now.advanced(by: configuration.drainTime)
        for plugin in loaded { try? await unload(name: plugin.name, drainUntil: until) }
        watchdog.stop()
    }

    /// Wakes every plugin's event subscription: new events were committed.
    public func eventsCommitted() {
        for plugin in loaded { plugin.delivery?.wake() }
    }

    /// Every tick of the watchdog: calls past their deadline are answered, and each plugin's
    /// status (stuck hooks, a restarting process) is brought up to date.
    private func checkHealth() {
        let now = ContinuousClock.now
        for plugin in loaded {
            for ticket in plugin.activity.overdue(at: now) {
                ticket.abandon(RPCError(.deadlineExceeded, "plugin \(plugin.name) did not answer \(ticket.label) in time"))
            }
            let stuck = plugin.activity.stuck(at: now, grace: configuration.stuckGrace)
            plugin.engine.tick(stuck: stuck.count)
            let status: PluginStatus
            if let condition = plugin.engine.condition {
                status = .degraded(condition)
            } else if stuck.count > 0 {
                status = .degraded("\(stuck.count) call\(stuck.count == 1 ? "" : "s") stuck past their deadline")
            } else {
                status = .serving
            }
            guard plugin.setStatus(status) else { continue }
            services.setServing(status.isServing, service: plugin.service)
            switch status {
            case .serving: plugin.logger.notice("plugin serving again")
            case .degraded(let reason): plugin.logger.warning("plugin degraded", metadata: ["reason": "\(reason)"])
            }
        }
    }
}

/// A thread that calls its tick every `interval` until stopped (or the tick returns false).
final class Watchdog: @unchecked Sendable {
    private let monitor = Monitor()
    private var stopped = false
    private let interval: Duration

    init(interval: Duration = .milliseconds(50)) { self.interval = interval }

    func start(_ tick: @escaping @Sendable () -> Bool) {
        start { [interval] in tick() ? interval : nil }
    }

    /// The tick says how long to wait for the next one, or nil to stop.
    func start(paced tick: @escaping @Sendable () -> Duration?) {
        let thread = Thread { [self] in
            monitor.lock()
            while !stopped {
                monitor.unlock()
                let next = tick()
                monitor.lock()
                guard let next else { break }
                if !stopped { _ = monitor.wait(until: ContinuousClock.now.advanced(by: next)) }
            }
            monitor.unlock()
        }
        thread.name = "plugin watchdog"
        thread.start()
    }

    func stop() {
        monitor.lock()
        stopped = true
        monitor.broadcast()
        monitor.unlock()
    }
}
