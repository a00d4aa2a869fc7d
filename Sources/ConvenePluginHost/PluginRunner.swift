import ConveneRPC
import Foundation
import Logging
import Synchronization

/// The plugin runner process (`convene-plugin-runner`): loads one plugin library with
/// `dlopen`, exactly as the server would, and serves it to the server over the socket it
/// was started with (fd 3). Host functions the plugin calls go to the server, which holds
/// the call's transaction; so storage, events and host calls mean what they mean in the
/// server's process. When the server goes away, so does the runner.
public enum PluginRunner {
    public static func main(_ arguments: [String]) -> Never {
        var options: [String: String] = [:]
        var index = 1
        while index + 1 < arguments.count {
            options[arguments[index]] = arguments[index + 1]
            index += 2
        }
        guard let path = options["--library"] else {
            FileHandle.standardError.write(Data("convene-plugin-runner is started by convened (--plugin-isolation process)\n".utf8))
            exit(2)
        }
        if let limit = options["--memory-limit"].flatMap(Int.init), limit > 0 {
            // A backstop for a single huge allocation; the server watches the resident size.
            var bound = rlimit(rlim_cur: rlim_t(limit) + (8 << 30), rlim_max: rlim_t(limit) + (8 << 30))
            setrlimit(Int32(RLIMIT_AS.rawValue), &bound)
        }
        // Before anything starts a thread (the sandbox binds the threads started after it)
        // and before any of the plugin's code runs (its library's constructors included).
        let sandboxMode = options["--sandbox"].flatMap(RunnerSandbox.Mode.init(rawValue:)) ?? .off
        let network = options["--network"].flatMap(RunnerSandbox.Network.init(rawValue:)) ?? .deny
        let sandbox = sandboxMode == .off ? nil : RunnerSandbox.apply(library: path, copy: options["--copy"], network: network)
        // The plugin's own child processes (system(), a fork and exec) do not inherit the
        // connection, so the server reads its end as soon as this process ends.
        _ = fcntl(3, F_SETFD, FD_CLOEXEC)
        let channel = RunnerChannel(descriptor: 3)
        let relay = ChannelLog(channel)
        // The server's level: what it would not write is not sent, nor counted in the pace.
        if let level = options["--log-level"].flatMap(Logger.Level.init(rawValue:)) { relay.logLevel = level }
        LoggingSystem.bootstrap { _ in relay }
        HostAPI.misuseLogger.withLock { $0 = Logger(label: "runner") }
        if case .failure(let refusal) = sandbox {
            guard sandboxMode != .require else {
                channel.send(.loadFailed("its process could not be sandboxed (--plugin-sandbox require): \(refusal)"))
                exit(0)
            }
            Logger(label: "runner").warning("not sandboxed in full (\(refusal)): this plugin's process may reach what the server's user can (--plugin-sandbox)")
        }
        let library: PluginLibrary
        do {
            let pinned = options["--copy"].map { ($0, options["--swift"] != "0") }
            library = try PluginLibrary(path: path, pinned: pinned, pinDirectory: nil, logger: relay)
        } catch {
            channel.send(.loadFailed(error.description))
            exit(0)
        }
        let session = RunnerSession(library: library, channel: channel,
                                    concurrency: options["--concurrency"].flatMap(Int.init) ?? 4,
                                    maxStuck: options["--max-stuck"].flatMap(Int.init) ?? 16)
        var manifest = library.manifest
        // Shown with the plugin in `convene plugins`, as long as it runs so.
        if case .failure(let refusal) = sandbox { manifest.warnings.append("not sandboxed in full: \(refusal)") }
        channel.send(.ready(manifest))
        // A reader stalled in a hook hands over the reading within a few milliseconds; hooks
        // queued behind one that overran, and answers left for the end of a burst whose last
        // hook overran, are seen to as often. An idle runner looks every 50 ms.
        Watchdog().start(paced: {
            let busy = session.readers.handOverIfStalled()
            session.executor.rebalance()
            relay.noteDropped()
            channel.flush()
            return .milliseconds(busy ? 2 : 50)
        })
        session.serve()
        // Another thread reads now, and ends the process when the server goes away.
        while true { pause() }
    }
}

extension PluginRunner {
    /// The server went away (it ended, even by SIGKILL, and nothing ends the runner's process
    /// group for it): the runner ends with what its plugin started, as the server would have
    /// ended them. Only a runner leading a group of its own (as the server starts it) ends
    /// its group; it ends itself in any case.
    static func serverGone() -> Never {
        if getpgrp() == getpid() { kill(0, SIGKILL) }
        exit(0)
    }
}

/// The runner's side of its connection: calls and events in, host functions out.
final class RunnerSession: @unchecked Sendable {
    let library: PluginLibrary
    let channel: RunnerChannel
    let executor: PluginExecutor
    private let jobs = Locked<[UInt64: PluginExecutor.Job]>([:])
    private let waiters = Locked<[UInt64: Waiter]>([:])
    private let nextRequest = Locked<UInt64>(0)
    let readers: RunnerReaders
    /// The callers' names as C strings, made once per caller rather than once per call (read
    /// by the reading thread only).
    private var callers = CallerNames()

    init(library: PluginLibrary, channel: RunnerChannel, concurrency: Int, maxStuck: Int) {
        self.library = library
        self.channel = channel
        executor = PluginExecutor(name: library.manifest.name, concurrency: concurrency, maxStuck: maxStuck)
        readers = RunnerReaders(executor: executor)
    }

    /// Reads the server's messages on the calling thread (first of the readers); returns
    /// when another thread reads.
    func serve() {
        readers.serve { [unowned self] generation, worker in read(as: generation, lending: worker) }
    }

    /// Reads the server's messages while `generation` holds the baton (`RunnerReaders`); ends
    /// the process when the server goes away.
    private func read(as generation: Int, lending worker: PluginExecutor.Worker) {
        while true {
            if !channel.hasBufferedFrame {
                // The calls of one read batch: short hooks run here, before the next wait
                // for input; the plugin's threads are woken (once) for the others.
                _ = executor.runQueuedHere(worker, limit: 1024)
                executor.rebalance()
                guard readers.isReading(generation) else { return }
            }
            let message: RunnerMessage?
            do {
                message = try channel.receive()
            } catch {
                PluginRunner.serverGone()
            }
            switch message {
            case nil:
                PluginRunner.serverGone()
            case .call(let id, let method, let caller, let roles, let request)?:
                run(id, .method(index: Int(method), request: request), caller: callers.name(caller), roles: roles)
            case .event(let id, let kind, let payload)?:
                run(id, .event(kind: kind, payload: payload), caller: callers.name(""), roles: [])
            case .abandon(let id)?:
                if let job = jobs.withLock({ $0[id] }), executor.abandon(job) == .dropped {
                    // Never ran, and never will: the server hears so, as of a hook that ended.
                    jobs.withLock { _ = $0.removeValue(forKey: id) }
                    answer(.done(id: id, status: Int32(StatusCode.cancelled.rawValue), response: nil,
                                 error: "abandoned before its hook ran"))
                }
            case .reply(let request, let status, let data)?:
                waiters.withLock { $0.removeValue(forKey: request) }?.finish(status, data)
            case .unload?:
                if jobs.withLock({ $0.isEmpty }) { library.unload() }
                exit(0)
            default:
                exit(0)  // the server sends nothing else
            }
        }
    }

    private func run(_ id: UInt64, _ work: PluginWork, caller: CallerName, roles: [Int32]) {
        // The call is its own job: no closure made per call.
        let call = RemoteHostCall(id: id, work: work, caller: caller, roles: roles, session: self)
        jobs.withLock { $0[id] = call }
        executor.submit(call, wake: false)
    }

    /// A hook returned: its call is no longer one to abandon, and its answer goes out.
    fileprivate func finished(_ call: RemoteHostCall, status: Int32) {
        jobs.withLock { _ = $0.removeValue(forKey: call.id) }
        answer(.done(id: call.id, status: status, response: call.response, error: call.errorMessage))
    }

    /// Sends a hook's answer. While more short hooks are queued, the answers of a burst wait
    /// for the thread that ends its last hook, and go out in one write (one system call here,
    /// one wake-up of the server's reader) instead of one each.
    private func answer(_ message: RunnerMessage) {
        if executor.hasShortHooksQueued {
            _ = channel.enqueue(message)
        } else {
            channel.send(message)
        }
    }

    /// Asks the server to carry out a host function for call `call`; waits for its answer.
    func ask(_ request: HostRequest, call: UInt64) -> (status: Int32, data: [UInt8]) {
        let id = nextRequest.withLock { next -> UInt64 in
            next &+= 1
            return next
        }
        let waiter = Waiter()
        waiters.withLock { $0[id] = waiter }
        // The reply is read by the reader: not this thread, which waits.
        readers.handOverIfReader()
        guard channel.send(.request(id: id, call: call, request)) else { PluginRunner.serverGone() }
        return waiter.wait()
    }

    final class Waiter: Sendable {
        private let done = DispatchSemaphore(value: 0)
        private let result = Locked<(Int32, [UInt8])>((-1, []))

        func finish(_ status: Int32, _ data: [UInt8]) {
            result.withLock { $0 = (status, data) }
            done.signal()
        }

        func wait() -> (status: Int32, data: [UInt8]) {
            done.wait()
            return result.withLock { $0 }
        }
    }
}

/// A call in the runner: what the plugin's host functions act on, and the job that runs its
/// hook. The answer and error stay here until the hook returns; everything else is the
/// server's (asked for, or sent).
final class RemoteHostCall: PluginExecutor.Job, HostCall, @unchecked Sendable {
    let id: UInt64
    let work: PluginWork
    let caller: CallerName
    /// Sorted; a party holds a handful at most, so a search is quicker than a set to make.
    let roles: [Int32]
    private unowned let session: RunnerSession
    private let state = Mutex(State())

    private struct State {
        /// Made when a host function first hands the plugin bytes (most hooks never do);
        /// under the lock, as a plugin may call host functions from threads of its own.
        var arena: HookArena?
        var writtenBytes = 0
        var writtenKeys = Set<[UInt8]>()
        var response: [UInt8]?
        var errorMessage: String?
    }

    init(id: UInt64, work: PluginWork, caller: CallerName, roles: [Int32], session: RunnerSession) {
        self.id = id
        self.work = work
        self.caller = caller
        self.roles = roles
        self.session = session
        super.init()
    }

    override func run() {
        let status = InProcessEngine.runHook(session.library, work, call: self)
        session.finished(self, status: status)
    }

    var pluginName: String { session.library.manifest.name }
    var callerCString: UnsafePointer<CChar> { caller.cString }
    var response: [UInt8]? { state.withLock { $0.response } }
    var errorMessage: String? { state.withLock { $0.errorMessage } }

    var arena: HookArena { state.withLock { HookArena.made(in: &$0.arena) } }

    func hookEnded() { state.withLock { $0.arena }?.release() }
    func hasRole(_ role: Int32) -> Bool { roles.contains(role) }
    func setResponse(_ bytes: UnsafeRawBufferPointer) { state.withLock { $0.response = Array(bytes) } }
    func discardResponse() { state.withLock { $0.response = nil } }
    func setError(_ message: String) { state.withLock { $0.errorMessage = message } }

    func storageGet(_ key: [UInt8]) throws -> [UInt8]? {
        let (status, data) = session.ask(.storageGet(key: key), call: id)
        guard status >= 0 else { throw RunnerProtocolError(description: "storage_get failed") }
        return status == 1 ? data : nil
    }

    func storageNext(prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]? {
        let (status, data) = session.ask(.storageNext(prefix: prefix, after: after), call: id)
        guard status >= 0 else { throw RunnerProtocolError(description: "storage_next failed") }
        return status == 1 ? data : nil
    }

    func storagePut(_ key: [UInt8], _ value: [UInt8]?) -> Bool {
        let accepted = state.withLock { state -> Bool in
            // The server's limits (PluginCall.storagePut), checked here first.
            let added = key.count + (value?.count ?? 0) + HostLimits.writeOverhead
            guard state.writtenBytes + added <= HostLimits.maxWrittenBytes,
                  state.writtenKeys.count < HostLimits.maxWrites || state.writtenKeys.contains(key) else { return false }
            state.writtenBytes += added
            state.writtenKeys.insert(key)
            return true
        }
        return accepted && session.channel.send(.write(call: id, key: key, value: value))
    }

    func emit(_ event: PluginEvent) -> Bool {
        session.ask(.emit(event), call: id).status == 0
    }

    func maySee(_ objectID: String) -> Int32 {
        session.ask(.maySee(objectID), call: id).status
    }

    func askRule(_ question: Int32, partyID: String?, objectID: String) -> RuleAnswer {
        let (status, data) = session.ask(.askRule(question: question, partyID: partyID, objectID: objectID), call: id)
        return RuleAnswer(wire: data, value: status)
    }

    func callService(path: String, request: [UInt8], asPlugin: Bool) -> Result<[UInt8], RPCError> {
        let (status, data) = session.ask(.callService(path: path, request: request, asPlugin: asPlugin), call: id)
        guard status != 0 else { return .success(data) }
        let code = status > 0 && status <= 16 ? StatusCode(rawValue: UInt8(status)) : .internal
        return .failure(RPCError(code, String(decoding: data, as: UTF8.self)))
    }
}

/// The runner's log: its records go to the server's log, through the connection, at the
/// pace the server writes them (more would only fill the connection; the server paces what
/// it reads again, not trusting this process).
final class ChannelLog: LogHandler, HostLogger, @unchecked Sendable {
    let channel: RunnerChannel
    private let pace = PluginLogPace()
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    init(_ channel: RunnerChannel) { self.channel = channel }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let extra = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        log(event.level, extra.isEmpty ? event.message.description : "\(event.message) \(extra)")
    }

    func log(_ level: Logger.Level, _ message: String) {
        guard level >= logLevel else { return }
        pace.log(level, message) { level, text in send(level, text) }
    }

    /// Says what was dropped after a flood that ended (the watchdog's tick).
    func noteDropped() {
        if let dropped = pace.noteDropped(now: monotonicNanos()) { send(.warning, PluginLogPace.note(dropped)) }
    }

    private func send(_ level: Logger.Level, _ text: String) {
        channel.send(.log(level: UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 3), message: text))
    }
}

/// A caller's name as the C string plugins read (`convene_call_caller`), valid while a call
/// holds it.
final class CallerName: Sendable {
    let name: String
    nonisolated(unsafe) let cString: UnsafePointer<CChar>

    init(_ name: String) {
        self.name = name
        cString = UnsafePointer(strdup(name)!)
    }

    deinit { free(UnsafeMutablePointer(mutating: cString)) }
}

/// The names of recent callers, most recent first: calls from the same party share one C
/// string, and the least recent caller makes room for a new one.
struct CallerNames {
    private var recent: [CallerName] = []
    static let kept = 16

    var count: Int { recent.count }

    mutating func name(_ name: String) -> CallerName {
        if let index = recent.firstIndex(where: { $0.name == name }) {
            if index > 0 { recent.insert(recent.remove(at: index), at: 0) }
            return recent[0]
        }
        let made = CallerName(name)
        if recent.count == Self.kept { recent.removeLast() }
        recent.insert(made, at: 0)
        return made
    }
}
