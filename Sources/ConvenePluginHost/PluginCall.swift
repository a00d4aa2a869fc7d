import ConveneRPC
import Foundation
import Synchronization
import Logging
import NIOCore

/// What a plugin's calls share: its name, the server's services, calls back into the router.
final class PluginEnvironment: Sendable {
    let name: String
    let services: any PluginServices
    let invoker: RouterInvoker
    let logger: Logger

    init(name: String, services: any PluginServices, invoker: RouterInvoker, logger: Logger) {
        self.name = name
        self.services = services
        self.invoker = invoker
        self.logger = logger
    }
}

/// One call into a plugin (or one event delivery), on the server's side: the caller, the
/// answer, and the storage reads, writes and events to commit when the hook is done.
/// Thread-safe: in process isolation its host functions arrive from the runner's
/// connection, which a plugin (not trusted) could use from several threads at once.
///
/// In process it is also the job its plugin's executor runs (`run`): a call makes one object
/// for both.
final class PluginCall: PluginExecutor.Job, HostCall, @unchecked Sendable {
    /// The party the call is made by; nil during an event delivery (the plugin acts for itself).
    let caller: PluginCaller?
    /// The call's credential, for host calls made "as the caller".
    let authorization: String?
    /// Which attempt of which call this is, and what its end commits and answers.
    let attempt: PluginAttempt
    var work: PluginWork { attempt.work }
    var ticket: CallTicket { attempt.ticket }
    /// Not a stored reference of its own: each one a call holds is a retain and a release.
    var environment: PluginEnvironment { attempt.plugin.environment }
    /// An inline lock (no allocation, unlike `NSLock`): a trivial call makes few objects.
    private let state: Mutex<State>

    private struct State: @unchecked Sendable {
        var response: ByteBuffer?
        /// Room for the response, made with the call: a response that fits is copied into it,
        /// so its memory is allocated and freed where the call is (the connection's event
        /// loop), not on the plugin's thread. (Memory made on one thread and freed on another
        /// made the two contend for the allocator's locks on every call.)
        var room: ByteBuffer?
        var errorMessage: String?
        /// This call's storage writes, newest value per key (nil: deleted).
        var writes: [[UInt8]: [UInt8]?] = [:]
        var writtenBytes = 0
        /// The written keys, sorted: made at the call's first listing, then kept up to date.
        var ownKeys: OwnKeyIndex?
        /// The committed value of each key when this call first read it (for the conflict check).
        var reads: [[UInt8]: [UInt8]?] = [:]
        /// Each step of its listings of committed keys, for the same check (a key added or
        /// removed under a prefix the call listed is a change of what it read).
        var listings: [StorageListing] = []
        var readBytes = 0
        var events: [PluginEvent] = []
        /// The caller's party as a C string, made when the plugin first asks for it.
        var callerCString: UnsafeMutablePointer<CChar>?
        /// Made when a host function first hands the plugin bytes (most hooks need none).
        var arena: HookArena?
    }

    /// In process: the library whose hook runs the call, set before it is submitted.
    var library: PluginLibrary?

    init(caller: PluginCaller?, authorization: String?, attempt: consuming PluginAttempt) {
        self.caller = caller
        self.authorization = authorization
        let room = attempt.method.map { ByteBufferAllocator().buffer(capacity: $0.responseCapacity) }
        self.attempt = consume attempt
        state = Mutex(State(room: room))
        super.init()
    }

    /// Runs the hook on the executor's thread (in process).
    override func run() {
        guard let library, ticket.hookStarting() else { return }
        let status = InProcessEngine.runHook(library, work, call: self)
        ticket.hookEnded()
        hookReturned(status)
    }

    deinit {
        state.withLock { free($0.callerCString) }
    }

    var arena: HookArena { state.withLock { HookArena.made(in: &$0.arena) } }

    func hookEnded() {
        state.withLock { $0.arena }?.release()
    }

    var pluginName: String { environment.name }
    /// The response, no longer kept here (the answer holds it).
    func takeResponse() -> ByteBuffer? {
        state.withLock { state in
            defer { state.response = nil }
            return state.response
        }
    }
    var errorMessage: String? { state.withLock { $0.errorMessage } }

    var callerCString: UnsafePointer<CChar> {
        state.withLock { state in
            if state.callerCString == nil { state.callerCString = strdup(caller?.partyID ?? "") }
            return UnsafePointer(state.callerCString!)
        }
    }

    /// What to commit: reads and listings for the conflict check, writes and events.
    var pending: (reads: [(key: [UInt8], value: [UInt8]?)], listings: [StorageListing], writes: [(key: [UInt8], value: [UInt8]?)],
                  events: [PluginEvent]) {
        state.withLock { state in
            (state.reads.map { (key: $0.key, value: $0.value) }, state.listings, state.writes.map { (key: $0.key, value: $0.value) },
             state.events)
        }
    }

    /// Whether committing it would write nothing (so it needs no thread that may block).
    var hasNothingToCommit: Bool { state.withLock { $0.writes.isEmpty && $0.events.isEmpty } }

    func hasRole(_ role: Int32) -> Bool { caller?.roles.contains(role) ?? false }

    func setResponse(_ bytes: UnsafeRawBufferPointer) {
        state.withLock { state in
            // Taken out first, so that it is written in place (held once).
            var buffer = state.response ?? state.room ?? ByteBuffer()
            state.response = nil
            state.room = nil
            buffer.clear()
            buffer.writeBytes(bytes)
            state.response = buffer
        }
    }

    func setError(_ message: String) { state.withLock { $0.errorMessage = message } }

    func discardResponse() {
        state.withLock { state in
            if state.room == nil { state.room = state.response }  // its room is kept for the next call's use
            state.response = nil
        }
    }

    /// Storage read through this call's own writes.
    func storageGet(_ key: [UInt8]) throws -> [UInt8]? {
        try checkOpen()
        if let known = state.withLock({ $0.writes[key] ?? $0.reads[key] }) { return known }
        let committed = try readStorage { try environment.services.storageGet(plugin: pluginName, key: key) }
        return try state.withLock { state in
            if let known = state.writes[key] ?? state.reads[key] { return known }
            // Every key read is kept for the commit's conflict check: bounded, as writes are.
            let added = key.count + (committed?.count ?? 0) + HostLimits.writeOverhead
            guard state.reads.count + state.listings.count < HostLimits.maxReads, state.readBytes + added <= HostLimits.maxReadBytes else {
                throw HostCallRefused(reason: "reads more than \(HostLimits.maxReads) keys or \(HostLimits.maxReadBytes) bytes in one call")
            }
            state.readBytes += added
            state.reads[key] = .some(committed)
            return committed
        }
    }

    /// A host function of a call already answered (abandoned at its deadline, cancelled) is
    /// refused: a hook running on past its call holds nothing more of the server's.
    private func checkOpen() throws {
        if ticket.isAnswered { throw HostCallRefused(reason: "the call has ended") }
    }

    func storageNext(prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]? {
        try checkOpen()
        // The committed successor and this call's own keys, whichever sorts first and still
        // exists. (A copy of the index: the next write changes it in place again.)
        let own = state.withLock { state -> OwnKeyIndex in
            if state.ownKeys == nil { state.ownKeys = OwnKeyIndex(writes: state.writes) }
            return state.ownKeys!
        }
        var cursor = after
        while true {
            try checkOpen()
            let committed = try readStorage {
                try environment.services.storageNext(plugin: pluginName, prefix: prefix, after: cursor)
            }
            try noteListing((prefix: prefix, after: cursor, next: committed))
            let candidate: [UInt8]?
            switch (committed, own.successor(under: prefix, after: cursor)) {
            case (nil, nil): candidate = nil
            case (let c?, nil): candidate = c
            case (nil, let p?): candidate = p
            case (let c?, let p?): candidate = c.lexicographicallyPrecedes(p) ? c : p
            }
            guard let key = candidate else { return nil }
            if own.isDeleted(key) {
                cursor = key  // a committed key deleted in this call: skip it
                continue
            }
            return key
        }
    }

    /// Keeps a step of a listing for the commit's conflict check; bounded with the reads.
    private func noteListing(_ listing: StorageListing) throws {
        try state.withLock { state in
            let added = listing.prefix.count + (listing.after?.count ?? 0) + (listing.next?.count ?? 0) + HostLimits.writeOverhead
            guard state.reads.count + state.listings.count < HostLimits.maxReads, state.readBytes + added <= HostLimits.maxReadBytes else {
                throw HostCallRefused(reason: "reads more than \(HostLimits.maxReads) keys or \(HostLimits.maxReadBytes) bytes in one call")
            }
            state.readBytes += added
            state.listings.append(listing)
        }
    }

    private func readStorage<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            environment.logger.error("plugin storage read failed", metadata: ["error": "\(error)"])
            throw error
        }
    }

    func storagePut(_ key: [UInt8], _ value: [UInt8]?) -> Bool {
        guard !ticket.isAnswered else { return false }
        return state.withLock { state in
            let added = key.count + (value?.count ?? 0) + HostLimits.writeOverhead
            guard state.writtenBytes + added <= HostLimits.maxWrittenBytes,
                  state.writes.count < HostLimits.maxWrites || state.writes[key] != nil else { return false }
            state.writtenBytes += added
            state.writes[key] = .some(value)
            state.ownKeys?.noteWrite(key, isLive: value != nil)
            return true
        }
    }

    func emit(_ event: PluginEvent) -> Bool {
        guard !ticket.isAnswered, event.hasPluginKind(reserved: environment.services.serverEventNamespaces) else { return false }
        guard state.withLock({ $0.events.count < HostLimits.maxEvents }) else { return false }
        // An audience narrower than the subject's is for an operation's events only, and a
        // party audience names a party ("party-3").
        if event.audience != .subject, !event.subjectID.hasPrefix("op-") { return false }
        if let party = event.audience.partyID {
            let digits = party.utf8.dropFirst(6)
            guard party.hasPrefix("party-"), !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let number = Int64(party.dropFirst(6)), number > 0, String(number) == party.dropFirst(6) else { return false }
        }
        guard (try? environment.services.maySee(nil, objectID: event.subjectID)) == true else { return false }
        state.withLock { $0.events.append(event) }
        return true
    }

    func maySee(_ objectID: String) -> Int32 {
        do {
            switch try environment.services.maySee(caller, objectID: objectID) {
            case true?: return 1
            case false?: return 0
            case nil: return -1
            }
        } catch {
            environment.logger.error("visibility check failed", metadata: ["object": "\(objectID)", "error": "\(error)"])
            return -1
        }
    }

    func askRule(_ question: Int32, partyID: String?, objectID: String) -> RuleAnswer {
        do {
            return try environment.services.askRule(caller, question: question, partyID: partyID, objectID: objectID)
        } catch {
            environment.logger.error("rule question failed", metadata: ["object": "\(objectID)", "error": "\(error)"])
            return .cannot("the server could not answer")
        }
    }

    func callService(path: String, request: [UInt8], asPlugin: Bool) -> Result<[UInt8], RPCError> {
        guard !ticket.isAnswered else { return .failure(RPCError(.cancelled, "the plugin's call has ended")) }
        return environment.invoker.invoke(plugin: pluginName, authorization: asPlugin ? nil : authorization, path: path,
                                          request: request, asPlugin: asPlugin, within: ticket.deadline)
    }
}

/// A host function refused for the call (it has ended, or went past a limit): the plugin gets
/// an error (-1), and the reason is logged.
struct HostCallRefused: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
