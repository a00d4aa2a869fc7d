import ConvenePluginABI
import ConveneRPC
import Foundation
import Logging
import NIOCore
import NIOPosix

/// Loads plugins with dlopen, serves their methods through the router, and delivers
/// domain events to them. Plugin code runs on the host's own threads, never on an event
/// loop, at most `concurrencyPerPlugin` calls at once per plugin, within the caller's
/// deadline (or `maxCallTime`).
public final class PluginHost: Sendable {
    public struct Configuration: Sendable {
        public var concurrencyPerPlugin = 4
        public var threads = 8
        /// Longest a plugin call may take when the caller set no deadline.
        public var maxCallTime: Duration = .seconds(30)
        /// Longest an unload waits for in-flight calls.
        public var drainTime: Duration = .seconds(30)
        public init() {}
    }

    let router: Router
    let services: any PluginServices
    let configuration: Configuration
    let logger: Logger
    let pool: NIOThreadPool
    private let plugins = Locked<[String: LoadedPlugin]>([:])

    public init(router: Router, services: any PluginServices, configuration: Configuration = Configuration(), logger: Logger) {
        self.router = router
        self.services = services
        self.configuration = configuration
        self.logger = logger
        self.pool = NIOThreadPool(numberOfThreads: configuration.threads)
        pool.start()
    }

    public var loaded: [LoadedPlugin] {
        plugins.withLock { Array($0.values) }.sorted { $0.name < $1.name }
    }

    /// Loads every `*.so` in the directories; a library that fails is logged and skipped.
    /// Returns the errors.
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
                                                            "file": "\(path)", "methods": "\(plugin.methods.count)"])
                } catch {
                    logger.error("plugin refused", metadata: ["reason": "\(error)"])
                    errors.append(error)
                }
            }
        }
        return errors
    }

    /// Loads one library: dlopen, the entry symbol, the ABI handshake, the descriptor.
    public func load(path: String) throws(PluginLoadError) -> LoadedPlugin {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw .cannotOpen(path: path, reason: String(cString: dlerror()))
        }
        var keepOpen = false
        defer { if !keepOpen { dlclose(handle) } }
        guard let symbol = dlsym(handle, CONVENE_PLUGIN_ENTRY) else { throw .missingEntry(path: path) }
        let entry = unsafeBitCast(symbol, to: convene_plugin_entry_fn.self)
        // The plugin gets its host handle before it has a descriptor: a placeholder box
        // that logs under the file name until the plugin is known.
        var descriptorPointer: UnsafePointer<convene_plugin_descriptor>?
        var errorPointer: UnsafePointer<CChar>?
        let hostHandle = HostHandle(logger: logger, path: path)
        let status = withExtendedLifetime(hostHandle) {
            entry(HostAPI.table, hostHandle.opaque, &descriptorPointer, &errorPointer)
        }
        guard status == 0 else {
            throw .initFailed(path: path, status: status, message: errorPointer.map { String(cString: $0) } ?? "")
        }
        guard let descriptor = descriptorPointer?.pointee else {
            throw .badDescriptor(path: path, reason: "the entry point returned OK without a descriptor")
        }
        guard descriptor.abi_major == UInt32(CONVENE_ABI_MAJOR) else {
            throw .abiMajorMismatch(path: path, plugin: descriptor.abi_major, host: UInt32(CONVENE_ABI_MAJOR))
        }
        guard descriptor.size >= MemoryLayout<convene_plugin_descriptor>.size || descriptor.abi_minor < UInt32(CONVENE_ABI_MINOR) else {
            throw .badDescriptor(path: path, reason: "size \(descriptor.size) is smaller than ABI \(descriptor.abi_major).\(descriptor.abi_minor) requires")
        }
        let invoker = RouterInvoker(router: router, services: services, timeout: configuration.maxCallTime)
        let plugin = try LoadedPlugin(path: path, handle: handle, descriptor: descriptor,
                                      concurrency: configuration.concurrencyPerPlugin, services: services,
                                      invoker: invoker, logger: logger)
        plugin.hostHandle = hostHandle
        hostHandle.logger = plugin.logger
        let duplicate = plugins.withLock { table -> Bool in
            if table[plugin.name] != nil { return true }
            table[plugin.name] = plugin
            return false
        }
        if duplicate { throw .duplicateName(path: path, name: plugin.name) }
        do {
            if !plugin.descriptorSet.isEmpty { try services.registerDescriptors(plugin.descriptorSet) }
            for method in plugin.methods { try register(method, of: plugin) }
        } catch {
            router.unregisterAll(owner: owner(plugin.name))
            _ = plugins.withLock { $0.removeValue(forKey: plugin.name) }
            throw .methodConflict(path: path, reason: "\(error)")
        }
        keepOpen = true
        return plugin
    }

    func owner(_ name: String) -> String { "plugin:\(name)" }

    private func register(_ method: PluginMethod, of plugin: LoadedPlugin) throws {
        let descriptor = MethodDescriptor(service: plugin.service, method: method.name, kind: .unary,
                                          inputType: method.inputType, outputType: method.outputType)
        try router.register(descriptor, owner: owner(plugin.name), .asynchronous { [self] requests, writer, context in
            var iterator = requests.makeAsyncIterator()
            guard let request = try await iterator.next() else {
                throw RPCError(.internal, "unary call ended without a request message")
            }
            let response = try await call(plugin, method, request: Array(buffer: request), context: context)
            try await writer.send(ByteBuffer(bytes: response), compress: true)
        })
    }

    /// Runs one plugin call on a plugin thread, within the caller's deadline.
    func call(_ plugin: LoadedPlugin, _ method: PluginMethod, request: [UInt8], context: ServerCallContext) async throws -> [UInt8] {
        let deadline = context.deadline ?? ContinuousClock.now.advanced(by: configuration.maxCallTime)
        let outcome = CallOutcome()
        // A call cancelled by its caller (CANCEL, or the server ending it) is abandoned too:
        // the plugin's thread runs on, but nothing it wrote is committed.
        return try await withTaskCancellationHandler {
            try await run(plugin, method, request: request, context: context, deadline: deadline, outcome: outcome)
        } onCancel: {
            _ = outcome.abandon()
        }
    }

    private func run(_ plugin: LoadedPlugin, _ method: PluginMethod, request: [UInt8], context: ServerCallContext,
                     deadline: ContinuousClock.Instant, outcome: CallOutcome) async throws -> [UInt8] {
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            group.addTask {
                try await plugin.limiter.acquire()
                defer { plugin.limiter.release() }
                return try await self.pool.runIfActive { [self] () throws -> [UInt8] in
                    // Optimistic concurrency: a call whose reads were changed by another call
                    // before it committed runs again; its last attempt runs alone.
                    for attempt in 1...Self.maxAttempts {
                        let exclusive = attempt == Self.maxAttempts
                        if exclusive { plugin.storageLock.lock() }
                        defer { if exclusive { plugin.storageLock.unlock() } }
                        let call = PluginCall(plugin: plugin, callerMetadata: context.requestMetadata)
                        let status = request.withUnsafeBufferPointer { bytes in
                            method.onCall(plugin.state, method.entry, call.opaque, bytes.baseAddress, bytes.count)
                        }
                        guard status == 0 else {
                            throw RPCError(StatusCode(rawValue: UInt8(clamping: max(status, 0))) == .ok ? .unknown
                                           : StatusCode(rawValue: UInt8(clamping: status)),
                                           call.errorMessage ?? "plugin \(plugin.name) failed")
                        }
                        guard let response = call.response else {
                            throw RPCError(.internal, "plugin \(plugin.name) returned OK without a response")
                        }
                        do {
                            // Commit only if the caller is still waiting: an abandoned call leaves nothing.
                            try outcome.commitUnlessAbandoned { try self.commit(call) }
                            return response
                        } catch is PluginStorageConflict {
                            continue
                        }
                    }
                    throw RPCError(.aborted, "plugin \(plugin.name): too many concurrent updates of the same data; try again")
                }
            }
            group.addTask {
                try? await Task.sleep(until: deadline)
                if outcome.abandon() {
                    throw RPCError(.deadlineExceeded, "plugin \(plugin.name) did not answer \(method.name) in time")
                }
                // Committed just now: the answer is on its way through the other task.
                try await Task.sleep(for: .seconds(3600))
                throw CancellationError()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    static let maxAttempts = 4

    func commit(_ call: PluginCall) throws {
        guard !call.writes.isEmpty || !call.events.isEmpty else { return }
        try call.plugin.storageLock.withLock {
            try services.commit(plugin: call.plugin.name, reads: call.reads.map { (key: $0.key, value: $0.value) },
                                writes: call.writes.map { (key: $0.key, value: $0.value) }, events: call.events)
        }
    }

    /// Hands a domain event to every plugin that subscribed to its kind. Fire and forget:
    /// each delivery runs on a plugin thread and commits its own writes.
    public func deliver(kind: String, payload: [UInt8]) {
        for plugin in loaded where plugin.subscribes(to: kind) {
            guard let onEvent = plugin.onEvent else { continue }
            Task {
                do {
                    try await plugin.limiter.acquire()
                    defer { plugin.limiter.release() }
                    try await pool.runIfActive { [self] in
                        for attempt in 1...Self.maxAttempts {
                            let exclusive = attempt == Self.maxAttempts
                            if exclusive { plugin.storageLock.lock() }
                            defer { if exclusive { plugin.storageLock.unlock() } }
                            let call = PluginCall(plugin: plugin, callerMetadata: Metadata())
                            kind.withCString { kindPointer in
                                payload.withUnsafeBufferPointer { bytes in
                                    onEvent(plugin.state, call.opaque, kindPointer, bytes.baseAddress, bytes.count)
                                }
                            }
                            do {
                                try commit(call)
                                return
                            } catch is PluginStorageConflict {
                                continue
                            }
                        }
                        throw PluginStorageConflict()
                    }
                } catch {
                    plugin.logger.error("event delivery failed", metadata: ["kind": "\(kind)", "error": "\(error)"])
                }
            }
        }
    }

    /// Stops routing to a plugin, waits for its in-flight calls, calls on_unload and, for a
    /// library without Swift code, dlclose. Throws NOT_FOUND for an unknown name.
    public func unload(name: String) async throws {
        guard let plugin = plugins.withLock({ $0.removeValue(forKey: name) }) else {
            throw RPCError(.notFound, "no plugin named '\(name)' is loaded")
        }
        router.unregisterAll(owner: owner(name))
        let deadline = ContinuousClock.now.advanced(by: configuration.drainTime)
        while plugin.limiter.active > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if plugin.limiter.active > 0 {
            logger.warning("plugin still busy after the drain time; left mapped", metadata: ["plugin": "\(name)"])
            return
        }
        if let onUnload = plugin.onUnload { onUnload(plugin.state) }
        if plugin.containsSwift {
            logger.info("plugin unloaded; its library holds Swift code and stays mapped", metadata: ["plugin": "\(name)"])
        } else {
            dlclose(plugin.handle)
            logger.info("plugin unloaded", metadata: ["plugin": "\(name)"])
        }
    }

    /// Unloads and loads again from the same file.
    public func reload(name: String) async throws -> LoadedPlugin {
        guard let path = plugins.withLock({ $0[name]?.path }) else {
            throw RPCError(.notFound, "no plugin named '\(name)' is loaded")
        }
        try await unload(name: name)
        do {
            return try load(path: path)
        } catch {
            throw RPCError(.failedPrecondition, error.description)
        }
    }

    public func shutDown() async {
        for plugin in loaded { try? await unload(name: plugin.name) }
        try? await pool.shutdownGracefully()
    }
}

/// Whether a plugin call's result still counts: the deadline and the commit race for it.
final class CallOutcome: Sendable {
    private enum State { case running, abandoned, committed }
    private let state = Locked(State.running)

    func commitUnlessAbandoned(_ commit: () throws -> Void) throws {
        try state.withLock { state in
            guard state == .running else { throw RPCError(.deadlineExceeded, "the caller stopped waiting") }
            try commit()
            state = .committed
        }
    }

    /// True when the call is now abandoned; false when it had already committed.
    func abandon() -> Bool {
        state.withLock { state in
            guard state == .running else { return false }
            state = .abandoned
            return true
        }
    }
}

/// What a plugin's `convene_host*` points to, from its entry point for as long as it is
/// loaded (the loaded plugin keeps it alive): logs under the file name, then the plugin's.
final class HostHandle: @unchecked Sendable {
    var logger: Logger

    init(logger: Logger, path: String) {
        var logger = logger
        logger[metadataKey: "plugin-file"] = "\(path)"
        self.logger = logger
    }

    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ pointer: OpaquePointer?) -> HostHandle? {
        guard let pointer else { return nil }
        return Unmanaged<HostHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}
