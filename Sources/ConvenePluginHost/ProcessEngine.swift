import CConvenePluginSpawn
import ConveneRPC
import Foundation
import Logging
import NIOCore
import NIOPosix

/// A plugin in a runner process of its own (`convene-plugin-runner`), over a socket pair.
/// The server keeps each call's transaction (`PluginCall`) and carries out the host
/// functions the plugin calls in the runner. A crash, a signal or a process over its memory
/// limit fails that plugin's calls in flight with UNAVAILABLE and restarts the process with
/// backoff; calls made meanwhile wait for it when it is due within their deadline, and fail
/// at once (UNAVAILABLE) when it is not (a plugin that keeps crashing waits up to 30 s).
final class ProcessEngine: PluginEngine, @unchecked Sendable {
    private struct InFlight {
        let call: PluginCall
        var ticket: CallTicket { call.ticket }
        var work: PluginWork { call.work }
        var sent = false
    }

    private struct State {
        var process: RunnerProcess?
        var calls: [UInt64: InFlight] = [:]
        var nextID: UInt64 = 0
        var condition: String?
        var failures = 0
        var stopping = false
        /// When the next start of the process is due, while it is not running.
        var restartDue: ContinuousClock.Instant?
    }

    let path: String
    let manifest: PluginManifest
    let logger: Logger
    /// The pace of the plugin's log lines, across restarts of its process.
    let logPace: PluginLogPace
    let configuration: PluginHost.Configuration
    /// The library's private copy, loaded by every incarnation of the process.
    private let copy: String
    private let containsSwift: Bool
    /// Server-side threads for the host functions the plugin calls and for completing calls.
    private let worker: PluginExecutor
    private let state = Locked(State())
    /// Host functions asked for and not answered yet, and the bytes they hold (a bound on
    /// what a runner can queue).
    private let requests = Locked((count: 0, bytes: 0))
    static let maxOutstandingRequests = 4096
    static let maxOutstandingBytes = 256 << 20
    /// The largest response answered on the event loop that read it (larger ones are checked
    /// on the engine's threads).
    static let maxAnsweredOnLoop = 64 << 10
    var isolation: PluginIsolation { .process }
    var condition: String? { state.withLock { $0.condition } }

    /// Starts the plugin's process and waits until the plugin is ready; throws the loader's
    /// error, or why the process ended first (a crash in the entry point).
    static func start(path: String, host: PluginHost) throws(PluginLoadError) -> ProcessEngine {
        let configuration = host.configuration
        guard let pinDirectory = configuration.pinDirectory, let runner = configuration.runnerPath else {
            throw .processFailed(path: path, reason: "process isolation needs a runner and a directory for library copies")
        }
        let (copy, swift) = try PluginLibrary.pin(path, into: pinDirectory)
        var logger = host.logger
        logger[metadataKey: "plugin-file"] = "\(path)"
        let logPace = PluginLogPace()
        do {
            let (process, manifest) = try RunnerProcess.launch(runner: runner, path: path, copy: copy, containsSwift: swift,
                                                               configuration: configuration, logger: logger, logPace: logPace)
            let engine = ProcessEngine(path: path, manifest: manifest, copy: copy, containsSwift: swift,
                                       configuration: configuration, logger: logger, logPace: logPace)
            engine.adopt(process)
            return engine
        } catch {
            unlink(copy)
            throw error
        }
    }

    private init(path: String, manifest: PluginManifest, copy: String, containsSwift: Bool,
                 configuration: PluginHost.Configuration, logger: Logger, logPace: PluginLogPace) {
        self.path = path
        self.logPace = logPace
        self.manifest = manifest
        self.copy = copy
        self.containsSwift = containsSwift
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "plugin"] = "\(manifest.name)"
        self.logger = logger
        worker = PluginExecutor(name: "\(manifest.name) host", concurrency: max(4, 2 * configuration.concurrencyPerPlugin), maxStuck: 0)
    }

    // MARK: Calls

    func run(_ call: PluginCall) {
        let (id, process, refusal) = state.withLock { state -> (UInt64, RunnerProcess?, String?) in
            // A method call that the next start would not serve in time is not kept waiting
            // for nothing (an event delivery waits: it is delivered again anyway).
            if state.process == nil, call.attempt.delivery == nil, let due = state.restartDue, due > call.ticket.deadline {
                return (0, nil, state.condition ?? "restarting")
            }
            state.nextID &+= 1
            state.calls[state.nextID] = InFlight(call: call)
            return (state.nextID, state.process, nil)
        }
        if let refusal {
            return call.ticket.fail(RPCError(.unavailable,
                "plugin \(manifest.name) is not running (\(refusal)); its next start is due after this call's deadline"))
        }
        // Held until the call is answered (the ticket then lets go of it), so not weakly: a
        // weakly referenced engine would take the runtime's slow path for every retain.
        call.ticket.setAbandonRemote(id, on: self)
        if let process { send(id, to: process) }
        // Otherwise the process is (re)starting: the call goes out once it is ready.
    }

    /// Sends a registered call to the process, unless it was abandoned or is out already.
    private func send(_ id: UInt64, to process: RunnerProcess) {
        let message = state.withLock { state -> RunnerMessage? in
            guard var entry = state.calls[id], !entry.sent, state.process === process else { return nil }
            guard entry.ticket.hookStarting() else {
                state.calls[id] = nil
                return nil
            }
            entry.sent = true
            state.calls[id] = entry
            switch entry.work {
            case .method(let index, let request):
                return .call(id: id, method: UInt32(index), caller: entry.call.caller?.partyID ?? "",
                             roles: entry.call.caller?.sortedRoles ?? [], request: request)
            case .event(let kind, let payload):
                return .event(id: id, kind: kind, payload: payload)
            }
        }
        guard let message else { return }
        // Calls arriving in one read batch of a connection go out together at the end of its turn.
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop {
            if process.channel.enqueue(message) { loop.execute { process.channel.flush() } }
        } else {
            process.channel.send(message)
        }
    }

    func abandon(_ id: UInt64) {
        let (process, sent) = state.withLock { state -> (RunnerProcess?, Bool) in
            guard let entry = state.calls[id] else { return (nil, false) }
            if !entry.sent { state.calls[id] = nil }
            return (state.process, entry.sent)
        }
        // Its hook runs on in the process, which gives the plugin a thread in its place.
        if sent { process?.channel.send(.abandon(id: id)) }
    }

    /// Everything the process says, on the event loop that reads it. False when the message
    /// broke a rule, and the process was ended for it (nothing more it sent is read).
    func received(_ message: RunnerMessage, from process: RunnerProcess) -> Bool {
        if let violation = message.runnerViolation {
            process.fail(violation)
            return false
        }
        switch message {
        case .done(let id, let status, let response, let error):
            guard let entry = state.withLock({ $0.calls.removeValue(forKey: id) }), entry.sent else { return true }
            if let response { response.withUnsafeBytes { entry.call.setResponse($0) } }
            if let error { entry.call.setError(error) }
            entry.ticket.hookEnded()
            // Answered here, on the event loop that read it, when that cannot block (nothing
            // to commit) nor take long (a response checked in microseconds).
            if entry.call.hasNothingToCommit, entry.call.attempt.delivery == nil,
               (response?.count ?? 0) <= Self.maxAnsweredOnLoop {
                entry.call.hookReturned(status)
            } else {
                worker.submit(PluginExecutor.Job { entry.call.hookReturned(status) })
            }
        case .request(let request, let id, let host):
            guard let call = state.withLock({ $0.calls[id]?.call }) else {
                process.channel.send(.reply(request: request, status: -1, data: []))
                return true
            }
            // A plugin thread waits for each answer: more outstanding than threads is not a plugin's doing.
            let size = host.size
            let admitted = requests.withLock { outstanding -> Bool in
                guard outstanding.count < Self.maxOutstandingRequests, outstanding.bytes + size <= Self.maxOutstandingBytes else {
                    return false
                }
                outstanding.count += 1
                outstanding.bytes += size
                return true
            }
            guard admitted else {
                process.fail("asked for more than \(Self.maxOutstandingRequests) host functions (or \(Self.maxOutstandingBytes >> 20) MiB of them) at once")
                return false
            }
            worker.submit(PluginExecutor.Job { [requests] in
                let (status, data) = Self.carryOut(host, for: call)
                requests.withLock {
                    $0.count -= 1
                    $0.bytes -= size
                }
                process.channel.send(.reply(request: request, status: status, data: data))
            })
        case .write(let id, let key, let value):
            guard let call = state.withLock({ $0.calls[id]?.call }) else { return true }
            // The runner checks the same limits before it sends a write: one refused here for a
            // call still open would be lost from a commit, so the runner is not trusted further.
            if !call.storagePut(key, value), !call.ticket.isAnswered {
                process.fail("wrote past the host's limits for one call")
                return false
            }
        case .log(let level, let text):
            logPace.log(logger, Logger.Level(wire: level), text)
        default:
            process.fail("sent a message a runner does not send")
            return false
        }
        return true
    }

    /// A host function the plugin called, carried out for its call.
    private static func carryOut(_ request: HostRequest, for call: PluginCall) -> (Int32, [UInt8]) {
        switch request {
        case .storageGet(let key):
            // Absent (0) and failed (-1) stay apart, as in process: the same plugin runs unchanged.
            guard key.count <= HostLimits.maxKey, let value = try? Optional(call.storageGet(key)) else { return (-1, []) }
            return found(value)
        case .storageNext(let prefix, let after):
            guard prefix.count <= HostLimits.maxKey, (after?.count ?? 0) <= HostLimits.maxKey,
                  let next = try? Optional(call.storageNext(prefix: prefix, after: after)) else { return (-1, []) }
            return found(next)
        case .callService(let path, let request, let asPlugin):
            switch call.callService(path: path, request: request, asPlugin: asPlugin) {
            case .success(let bytes): return (0, bytes)
            case .failure(let error): return (Int32(error.code.rawValue), Array(error.message.utf8))
            }
        case .maySee(let id):
            return (call.maySee(id), [])
        case .askRule(let question, let partyID, let objectID):
            let answer = call.askRule(question, partyID: partyID, objectID: objectID)
            return (answer.value, answer.wire)
        case .emit(let event):
            return (call.emit(event) ? 0 : -1, [])
        }
    }

    private static func found(_ value: [UInt8]?) -> (Int32, [UInt8]) {
        value.map { (1, $0) } ?? (0, [])
    }

    // MARK: The process

    private func adopt(_ process: RunnerProcess) {
        let pending = state.withLock { state -> [UInt64] in
            state.process = process
            state.condition = nil
            state.restartDue = nil
            return state.calls.filter { !$0.value.sent }.map(\.key).sorted()
        }
        RunnerReader.start(process, engine: self, group: MultiThreadedEventLoopGroup.singleton)
        for id in pending { send(id, to: process) }
    }

    /// The process ended (on its reader thread): its calls fail, and it is started again.
    func ended(_ process: RunnerProcess, how: String) {
        let (lost, stopping, reason, attempt) = state.withLock { state -> ([InFlight], Bool, String, Int) in
            guard state.process === process else { return ([], true, how, 0) }
            state.process = nil
            let reason = how
            let lost = state.calls.values.filter(\.sent)
            state.calls = state.calls.filter { !$0.value.sent }
            if process.uptime > .seconds(30) { state.failures = 0 }
            state.failures += 1
            if !state.stopping { state.condition = "restarting: its process ended (\(reason))" }
            // Known before the calls lost are answered: a caller that tries again at once is told.
            state.restartDue = .now.advanced(by: Self.backoff(state.failures))
            return (Array(lost), state.stopping, reason, state.failures)
        }
        guard !stopping else { return }
        logger.error("plugin process ended", metadata: ["reason": "\(reason)", "calls-failed": "\(lost.count)"])
        for entry in lost {
            entry.ticket.hookEnded()
            entry.ticket.fail(RPCError(.unavailable, "plugin \(manifest.name): its process ended during the call (\(reason)); it is restarted"))
        }
        restart(after: Self.backoff(attempt))
    }

    static func backoff(_ attempt: Int) -> Duration {
        .milliseconds(min(30_000, 100 << min(max(attempt - 1, 0), 9)))
    }

    private func restart(after pause: Duration) {
        state.withLock { $0.restartDue = .now.advanced(by: pause) }
        let thread = Thread { [self] in
            Thread.sleep(forTimeInterval: Double(pause.saturatingNanoseconds) / 1e9)
            guard !state.withLock({ $0.stopping }) else { return }
            do {
                let (process, manifest) = try RunnerProcess.launch(runner: configuration.runnerPath ?? "", path: path, copy: copy,
                                                                   containsSwift: containsSwift, configuration: configuration,
                                                                   logger: logger, logPace: logPace)
                guard manifest.name == self.manifest.name, manifest.methods == self.manifest.methods else {
                    process.kill(because: nil)
                    throw PluginLoadError.processFailed(path: path, reason: "it described itself differently on restart")
                }
                if state.withLock({ $0.stopping }) {
                    process.kill(because: nil)
                    return
                }
                logger.notice("plugin process restarted", metadata: ["pid": "\(process.pid)"])
                adopt(process)
            } catch {
                let attempt = state.withLock { state -> Int in
                    state.failures += 1
                    state.condition = "its process does not start: \(error)"
                    return state.failures
                }
                logger.error("plugin process does not start", metadata: ["reason": "\(error)"])
                restart(after: Self.backoff(attempt))
            }
        }
        thread.name = "plugin \(manifest.name) restart"
        thread.start()
    }

    func releaseHeldAnswers() { worker.rebalance() }

    /// On the watchdog's tick: a process over its memory limit, or with as many hooks stuck as
    /// the plugin may leave, is ended (and so restarted), which frees all it held.
    func tick(stuck: Int) {
        worker.rebalance()
        logPace.noteDropped(in: logger)
        guard let process = state.withLock({ $0.process }) else { return }
        if process.hasEnded {
            // Ended while a child of the plugin holds its connection open: close the server's
            // end, so that its calls fail and it restarts as when its end is read.
            return process.kill(because: nil)
        }
        let resident = process.residentBytes
        let limit = configuration.memoryLimit
        if resident > limit {
            process.kill(because: "ended by the server: over its memory limit of \(limit >> 20) MiB (\(resident >> 20) MiB resident)")
        } else if stuck >= max(1, configuration.maxStuckPerPlugin) {
            process.kill(because: "ended by the server: \(stuck) calls stuck past their deadline")
        }
    }

    func stop(unload: Bool) {
        let (process, waiting) = state.withLock { state -> (RunnerProcess?, [InFlight]) in
            state.stopping = true
            state.condition = nil
            let waiting = Array(state.calls.values)
            state.calls = [:]
            return (state.process, waiting)
        }
        for entry in waiting {
            if entry.sent { entry.ticket.hookEnded() }
            entry.ticket.fail(RPCError(.unavailable, "plugin \(manifest.name) is stopping"))
        }
        if let process {
            if unload { process.channel.send(.unload) }
            process.waitForExit(upTo: unload ? .seconds(2) : .zero)
        }
        worker.shutDown()
        unlink(copy)
    }
}
