import ConveneRPC
import Foundation
import Synchronization

/// One call into a plugin (a method call or an event delivery) from the host's side, across
/// its attempts: answered exactly once, committed only while the caller still waits, and
/// abandoned (deadline, cancellation, a crashed plugin process) without waiting for the
/// plugin. A ticket whose hook is still running after it was abandoned is "stuck".
final class CallTicket: @unchecked Sendable {
    typealias Completion = @Sendable (Result<[UInt8], RPCError>) -> Void

    let id: UInt64
    let deadline: ContinuousClock.Instant
    /// What the call is, for messages ("GetTaskForce", "event meeting.convened #12").
    let label: String
    /// An inline lock (no allocation, unlike `NSLock`): a trivial call makes few objects.
    private let state: Mutex<State>
    /// Held strongly: the activity holds the ticket only until it is answered and its hook is
    /// over, which ends the cycle. (A weak reference gave the activity a side table, and made
    /// every retain of it on the hot path a slow one.)
    private let activity: PluginActivity

    private struct State: @unchecked Sendable {
        var completion: Completion?
        var answered = false
        var abandoned = false
        var hookRunning = false
        var abandonedAt: ContinuousClock.Instant?
        var onAbandon: (() -> Void)?

        /// Once answered: drops the completion and the abandon hook. An engine's hook holds
        /// the job that holds this ticket, so keeping it would be a cycle that leaked every
        /// answered call (its job, request, response and caller).
        mutating func letGo() {
            completion = nil
            onAbandon = nil
        }
    }

    init(id: UInt64, deadline: ContinuousClock.Instant, label: String, activity: PluginActivity,
         completion: @escaping Completion) {
        self.id = id
        self.deadline = deadline
        self.label = label
        self.activity = activity
        state = Mutex(State(completion: completion))
    }

    /// Called by an engine for each attempt: how to take it back if the call is abandoned.
    /// Not kept once the call is answered (nothing is left to take back).
    func setAbandonHook(_ hook: @escaping () -> Void) {
        state.withLock { if !$0.answered { $0.onAbandon = hook } }
    }

    /// The hook is about to run; false when the call was abandoned meanwhile (then do not run it).
    func hookStarting() -> Bool {
        state.withLock { state in
            guard !state.abandoned else { return false }
            state.hookRunning = true
            return true
        }
    }

    func hookEnded() {
        let done = state.withLock { state -> Bool in
            state.hookRunning = false
            return state.answered
        }
        if done { activity.remove(self) }
    }

    /// Runs `commit` and answers `result`, unless the call was abandoned (then neither).
    func commitAndAnswer(_ commit: () throws -> [UInt8]) throws {
        let (result, completion) = try state.withLock { state -> ([UInt8], Completion?) in
            guard !state.abandoned, !state.answered else { throw RPCError(.deadlineExceeded, "the caller stopped waiting") }
            let result = try commit()
            state.answered = true
            defer { state.letGo() }
            return (result, state.completion)
        }
        completion?(.success(result))
        finishIfIdle()
    }

    /// Answers with an error (no commit).
    func fail(_ error: RPCError) {
        let completion = state.withLock { state -> Completion? in
            guard !state.answered else { return nil }
            state.answered = true
            defer { state.letGo() }
            return state.completion
        }
        completion?(.failure(error))
        finishIfIdle()
    }

    /// Stops waiting for the plugin: answers `error` now, commits nothing the plugin does
    /// later, and takes back the attempt in progress. False when the call had already been answered.
    @discardableResult
    func abandon(_ error: RPCError) -> Bool {
        let (completion, hook) = state.withLock { state -> (Completion?, (() -> Void)?) in
            guard !state.answered else { return (nil, nil) }
            state.answered = true
            state.abandoned = true
            state.abandonedAt = .now
            defer { state.letGo() }
            return (state.completion, state.onAbandon)
        }
        guard let completion else { return false }
        hook?()
        completion(.failure(error))
        finishIfIdle()
        return true
    }

    /// Abandoned while its hook still runs: since when it was abandoned.
    var stuckSince: ContinuousClock.Instant? {
        state.withLock { $0.hookRunning ? $0.abandonedAt : nil }
    }

    var isAnswered: Bool { state.withLock { $0.answered } }

    private func finishIfIdle() {
        if state.withLock({ !$0.hookRunning }) { activity.remove(self) }
    }
}

/// A plugin's calls in flight (answered or not, while their hook runs): for deadlines,
/// draining on unload, and telling a degraded plugin (hooks stuck past their deadline).
final class PluginActivity: @unchecked Sendable {
    private struct Registry {
        var tickets: [UInt64: CallTicket] = [:]
        var lastID: UInt64 = 0
    }

    private let registry = Locked(Registry())

    /// A registered ticket for a new call.
    func ticket(deadline: ContinuousClock.Instant, label: String,
                completion: @escaping @Sendable (Result<[UInt8], RPCError>) -> Void) -> CallTicket {
        registry.withLock { registry in
            registry.lastID &+= 1
            let ticket = CallTicket(id: registry.lastID, deadline: deadline, label: label, activity: self, completion: completion)
            registry.tickets[ticket.id] = ticket
            return ticket
        }
    }

    func remove(_ ticket: CallTicket) {
        _ = registry.withLock { $0.tickets.removeValue(forKey: ticket.id) }
    }

    var all: [CallTicket] { registry.withLock { Array($0.tickets.values) } }
    var count: Int { registry.withLock { $0.tickets.count } }

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
