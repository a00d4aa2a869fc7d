import ConveneRPC
import Foundation
import Logging

/// What a plugin is asked to do.
enum PluginWork: Sendable {
    /// A method of its descriptor, with the serialized request.
    case method(index: Int, request: [UInt8])
    /// A domain event it subscribed to (a serialized OperationEvent).
    case event(kind: String, payload: [UInt8])
}

/// Where a plugin's code runs: in the server's process, or in a runner process of its own.
protocol PluginEngine: AnyObject, Sendable {
    var manifest: PluginManifest { get }
    /// `in-process` or `process`.
    var isolation: PluginIsolation { get }
    /// Runs the hook of `call` (its `work`). Calls `call.hookReturned` on a thread that may
    /// block, with the hook's status once it returned; when the call is abandoned meanwhile
    /// (or the plugin's process dies) the engine fails the ticket instead and does not.
    func run(_ call: PluginCall)
    /// Something the operator should know about the engine itself (a process restarting);
    /// nil when it serves.
    var condition: String? { get }
    /// Stops serving. With `unload`, the plugin's `on_unload` runs first (only when no hook runs).
    func stop(unload: Bool)
    /// The watchdog's tick, with how many of the plugin's hooks are stuck past their deadline.
    func tick(stuck: Int)
    /// Wakes the connections whose answers the plugin's threads hold back (`HeldWakeups`) and
    /// whose hooks overran: what the watchdog's tick does, while the plugin is being unloaded
    /// (no longer ticked, and its calls drained).
    func releaseHeldAnswers()
}

extension PluginEngine {
    func tick(stuck: Int) {}
    func releaseHeldAnswers() {}
}

/// Where a plugin's code runs (see Docs/PLUGINS.md, "Isolation").
public enum PluginIsolation: String, Sendable, CaseIterable {
    /// In the server's process, on threads of its own: fastest; a crash in it is the server's.
    case inProcess = "in-process"
    /// In a runner process of its own, over a local socket: a crash or leak in it is its own.
    case process
}

/// A plugin library loaded into the server's own process, run on its own threads.
final class InProcessEngine: PluginEngine, @unchecked Sendable {
    let library: PluginLibrary
    let executor: PluginExecutor
    let logger: Logger
    /// The plugin's log (paced).
    private let relay: LogRelay
    var manifest: PluginManifest { library.manifest }
    var isolation: PluginIsolation { .inProcess }
    var condition: String? { nil }

    init(path: String, pinDirectory: String?, concurrency: Int, maxStuck: Int, readyTimeout: Duration,
         logger: Logger) throws(PluginLoadError) {
        var fileLogger = logger
        fileLogger[metadataKey: "plugin-file"] = "\(path)"
        self.logger = fileLogger
        let relay = LogRelay(fileLogger)
        self.relay = relay
        library = try Self.load(path: path, pinDirectory: pinDirectory, logger: relay, within: readyTimeout)
        relay.logger[metadataKey: "plugin"] = "\(library.manifest.name)"
        executor = PluginExecutor(name: library.manifest.name, concurrency: concurrency, maxStuck: maxStuck)
    }


    /// Loads the library on a thread of its own, waiting `limit` at most for its entry point: one
    /// that never returns leaves that thread behind (its library mapped, unloaded if it ever
    /// returns), not the server's start or an administrator's load waiting for it.
    private static func load(path: String, pinDirectory: String?, logger: LogRelay,
                             within limit: Duration) throws(PluginLoadError) -> PluginLibrary {
        let done = DispatchSemaphore(value: 0)
        let outcome = Locked<(result: Result<PluginLibrary, PluginLoadError>?, abandoned: Bool)>((nil, false))
        let thread = Thread {
            let result: Result<PluginLibrary, PluginLoadError>
            do throws(PluginLoadError) {
                result = .success(try PluginLibrary(path: path, pinDirectory: pinDirectory, logger: logger))
            } catch {
                result = .failure(error)
            }
            let abandoned = outcome.withLock { outcome -> Bool in
                outcome.result = result
                return outcome.abandoned
            }
            if abandoned, case .success(let late) = result {
                logger.log(.warning, "its entry point returned after the server gave up on it; unloaded")
                late.unload()
            }
            done.signal()
        }
        thread.name = "plugin entry"
        thread.start()
        let inTime = done.wait(timeout: .now() + .nanoseconds(Int(limit.saturatingNanoseconds))) == .success
        let result = outcome.withLock { outcome -> Result<PluginLibrary, PluginLoadError>? in
            if outcome.result == nil { outcome.abandoned = true }
            return outcome.result
        }
        guard let result else {
            precondition(!inTime)
            throw .notReady(path: path, reason: "its entry point did not return within \(limit) (--plugin-ready-timeout); it is left on a thread of its own")
        }
        return try result.get()
    }

    func run(_ call: PluginCall) {
        call.library = library
        call.ticket.setAbandonJob(call, on: executor)
        // A method call whose plugin has every thread stuck fails at once (an event delivery
        // waits: it is delivered again anyway).
        guard executor.submit(call, unlessStuck: call.attempt.delivery == nil) else {
            let reason = executor.isExhaustedByStuckHooks
                ? "has more hooks stuck past their deadline than --plugin-max-stuck (\(executor.maxStuck)); it serves again when they return"
                : "is stopping"
            return call.ticket.fail(RPCError(.unavailable, "plugin \(manifest.name) \(reason)"))
        }
    }

    /// Runs a hook of `library` on this thread with a fresh call handle, ended when it returns.
    static func runHook(_ library: PluginLibrary, _ work: PluginWork, call: any HostCall) -> Int32 {
        let handle = HostAPI.calls.insert(call, owner: library.manifest.name)
        defer {
            HostAPI.calls.remove(handle)
            call.hookEnded()
        }
        switch work {
        case .method(let index, let request):
            guard index >= 0, index < library.methods.count else { return Int32(StatusCode.unimplemented.rawValue) }
            let method = library.methods[index]
            return request.withUnsafeBufferPointer { bytes in
                method.onCall(library.state, method.entry, handle, bytes.baseAddress, bytes.count)
            }
        case .event(let kind, let payload):
            guard let onEvent = library.onEvent else { return 0 }
            kind.withCString { kindPointer in
                payload.withUnsafeBufferPointer { bytes in
                    onEvent(library.state, handle, kindPointer, bytes.baseAddress, bytes.count)
                }
            }
            return 0
        }
    }

    /// Hooks queued behind one that overran get a thread, even when no other call comes.
    func tick(stuck: Int) {
        executor.rebalance()
        relay.noteDropped()
    }

    func releaseHeldAnswers() { executor.rebalance() }

    func stop(unload: Bool) {
        executor.shutDown()
        if unload { library.unload() } else { HostAPI.hosts.remove(library.hostHandle) }
    }
}

/// The plugin's log: the server's logger, named after the file until the plugin is known.
final class LogRelay: HostLogger, @unchecked Sendable {
    var logger: Logger
    private let pace = PluginLogPace()

    init(_ logger: Logger) { self.logger = logger }

    func log(_ level: Logger.Level, _ message: String) { pace.log(logger, level, message) }

    /// Says what was dropped after a flood that ended (the watchdog's tick).
    func noteDropped() { pace.noteDropped(in: logger) }
}

extension String {
    /// Its control characters escaped ("\n" for a newline): a plugin's text in the server's
    /// log stays on its line (a plugin once wrote a whole forged log line, named after
    /// another plugin, into it).
    var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return self }
        var escaped = ""
        for scalar in unicodeScalars {
            if scalar.properties.generalCategory == .control {
                escaped += scalar.escaped(asASCII: true)
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
