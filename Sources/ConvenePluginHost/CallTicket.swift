import ConveneRPC
import Foundation

/// One call into a plugin (a method call or an event delivery) from the host's side, across
/// its attempts: answered exactly once, committed only while the caller still waits, and
/// abandoned (deadline, cancellation, a crashed plugin process) without waiting for the
/// plugin. A ticket whose hook is still running after it was abandoned is "stuck".
final class CallTicket: @unchecked Sendable {
    let id: UInt64
    let deadline: ContinuousClock.Instant
    /// What the call is, for messages ("GetTaskForce", "event meeting.convened #12").
    let label: String
    private let lock = NSLock()
    private var completion: (@Sendable (Result<[UInt8], RPCError>) -> Void)?
    private var answered = false
    private var abandoned = false
    private var hookRunning = false
    private var abandonedAt: ContinuousClock.Instant?
    private var onAbandon: (() -> Void)?
    private weak var activity: PluginActivity?

    init(id: UInt64, deadline: ContinuousClock.Instant, label: String, activity: PluginActivity,
         completion: @escaping @Sendable (Result<[UInt8], RPCError>) -> Void) {
        self.id = id
        self.deadline = deadline
        self.label = label
        self.activity = activity
        self.completion = completion
    }

    /// Called by an engine for each attempt: how to take it back if the call is abandoned.
    /// Not kept once the call is answered (nothing is left to take back).
    func setAbandonHook(_ hook: @escaping () -> Void) {
        lock.withLock { if !answered { onAbandon = hook } }
    }

    /// The hook is about to run; false when the call was abandoned meanwhile (then do not run it).
    func hookStarting() -> Bool {
        lock.withLock {
            guard !abandoned else { return false }
            hookRunning = true
            return true
        }
    }

    func hookEnded() {
        let done = lock.withLock { () -> Bool in
            hookRunning = false
            return answered
        }
        if done { activity?.remove(self) }
    }

    /// Runs `commit` and answers `result`, unless the call was abandoned (then neither).
    func commitAndAnswer(_ commit: () throws -> [UInt8]) throws {
        let (result, completion) = try lock.withLock { () -> ([UInt8], (@Sendable (Result<[UInt8], RPCError>) -> Void)?) in
            guard !abandoned, !answered else { throw RPCError(.deadlineExceeded, "the caller stopped waiting") }
            let result = try commit()
            answered = true
            defer { letGo() }
            return (result, self.completion)
        }
        completion?(.success(result))
        finishIfIdle()
    }

    /// Answers with an error (no commit).
    func fail(_ error: RPCError) {
        let completion = lock.withLock { () -> (@Sendable (Result<[UInt8], RPCError>) -> Void)? in
            guard !answered else { return nil }
            answered = true
            defer { letGo() }
            return self.completion
        }
        completion?(.failure(error))
        finishIfIdle()
    }

    /// Stops waiting for the plugin: answers `error` now, commits nothing the plugin does
    /// later, and takes back the attempt in progress. False when the call had already been answered.
    @discardableResult
    func abandon(_ error: RPCError) -> Bool {
        let (completion, hook) = lock.withLock { () -> ((@Sendable (Result<[UInt8], RPCError>) -> Void)?, (() -> Void)?) in
            guard !answered else { return (nil, nil) }
            answered = true
            abandoned = true
            abandonedAt = .now
            defer { letGo() }
            return (self.completion, onAbandon)
        }
        guard let completion else { return false }
        hook?()
        completion(.failure(error))
        finishIfIdle()
        return true
    }

    /// Called with the lock held, once answered: drops the completion and the abandon hook.
    /// An engine's hook holds the job that holds this ticket, so keeping it would be a cycle
    /// that leaked every answered call (its job, request, response and caller).
    private func letGo() {
        completion = nil
        onAbandon = nil
    }

    /// Abandoned while its hook still runs: since when it was abandoned.
    var stuckSince: ContinuousClock.Instant? {
        lock.withLock { hookRunning ? abandonedAt : nil }
    }

    var isAnswered: Bool { lock.withLock { answered } }

    private func finishIfIdle() {
        if lock.withLock({ !hookRunning }) { activity?.remove(self) }
    }
}

/// A plugin's calls in flight (answered or not, while their hook runs): for deadlines,
/// draining on unload, and telling a degraded plugin (hooks stuck past their deadline).
final class PluginActivity: @unchecked Sendable {
    private let tickets = Locked<[UInt64: CallTicket]>([:])
    private let nextID = Locked<UInt64>(0)

    /// A registered ticket for a new call.
    func ticket(deadline: ContinuousClock.Instant, label: String,
                completion: @escaping @Sendable (Result<[UInt8], RPCError>) -> Void) -> CallTicket {
        let id = nextID.withLock { id -> UInt64 in
            id &+= 1
            return id
        }
        let ticket = CallTicket(id: id, deadline: deadline, label: label, activity: self, completion: completion)
        tickets.withLock { $0[id] = ticket }
        return ticket
    }

    func remove(_ ticket: CallTicket) {
        _ = tickets.withLock { $0.removeValue(forKey: ticket.id) }
    }

    var all: [CallTicket] { tickets.withLock { Array($0.values) } }
    var count: Int { tickets.withLock { $0.count } }

    /// Calls not yet answered whose deadline has passed.
    func overdue(at now: ContinuousClock.Instant) -> [CallTicket] {
        all.filter { $0.deadline <= now && !$0.isAnswered }
    }

    /// How many hooks still run `grace` after their call was abandoned (past its deadline,
    /// cancelled), and since when the oldest was abandoned.
    func stuck(at now: ContinuousClock.Instant, grace: Duration) -> (count: Int, since: ContinuousClock.Instant?) {
        let times = all.compactMap(\.stuckSince).filter { now - $0 >= grace }
        return (times.count, times.min())
    }
}
