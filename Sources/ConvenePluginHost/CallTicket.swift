import ConveneRPC
import Foundation
import NIOCore
import Synchronization

/// One call into a plugin (a method call or an event delivery) from the host's side, across
/// its attempts: answered exactly once, committed only while the caller still waits, and
/// abandoned (deadline, cancellation, a crashed plugin process) without waiting for the
/// plugin. A ticket whose hook is still running after it was abandoned is "stuck".
final class CallTicket: CallCancellation, @unchecked Sendable {
    typealias Completion = @Sendable (Result<[UInt8], RPCError>) -> Void

    /// Who is answered: a closure (an event delivery, tests) or, for a method call, the
    /// transport's completion itself (no closure made per call).
    enum Answerer: @unchecked Sendable {
        case closure(Completion)
        case unary(any UnaryCompletion)

        /// Answers `result`; the transport lets go of `object` where it takes the answer.
        func answer(_ result: Result<ByteBuffer, RPCError>, releasing object: AnyObject? = nil) {
            switch self {
            case .closure(let completion): completion(result.map { Array(buffer: $0) })
            case .unary(let completion):
                switch result {
                case .success(let response):
                    if let object {
                        completion.succeed(response, releasing: object)
                    } else {
                        completion.succeed(response)
                    }
                case .failure(let error): completion.fail(error)
                }
            }
        }
    }

    /// How an attempt in progress is taken back when the call is abandoned.
    enum AbandonAction {
        case closure(() -> Void)
        /// A hook queued or running on a plugin's executor (no closure made per call).
        case job(PluginExecutor.Job, PluginExecutor)
        /// A call sent (or about to be sent) to a plugin's runner process.
        case remote(ProcessEngine, id: UInt64)

        func run() {
            switch self {
            case .closure(let body): body()
            case .job(let job, let executor): _ = executor.abandon(job)
            case .remote(let engine, let id): engine.abandon(id)
            }
        }
    }

    /// Its place in its plugin's `PluginActivity` (set there, under its lock).
    var slot = -1
    /// The request bytes it holds, counted against its plugin's bound until it is removed.
    var requestBytes = 0
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
        var completion: Answerer?
        var answered = false
        var abandoned = false
        /// Its commit runs (outside the lock): an abandonment meanwhile waits for its end.
        var committing = false
        /// Asked for during the commit: carried out if the commit fails, dropped if it succeeds.
        var abandonAfterCommit: RPCError?
        var hookRunning = false
        var abandonedAt: ContinuousClock.Instant?
        var onAbandon: AbandonAction?

        /// Once answered: drops the completion and the abandon hook. An engine's hook holds
        /// the job that holds this ticket, so keeping it would be a cycle that leaked every
        /// answered call (its job, request, response and caller).
        mutating func letGo() {
            completion = nil
            onAbandon = nil
        }
    }

    init(deadline: ContinuousClock.Instant, label: String, activity: PluginActivity, completion: Answerer) {
        self.deadline = deadline
        self.label = label
        self.activity = activity
        state = Mutex(State(completion: completion))
    }

    /// Called by an engine for each attempt: how to take it back if the call is abandoned.
    /// Not kept once the call is answered (nothing is left to take back).
    func setAbandonHook(_ hook: @escaping () -> Void) {
        state.withLock { if !$0.answered { $0.onAbandon = .closure(hook) } }
    }

    /// The attempt is call `id` of a runner process: abandoning the call takes it back there.
    func setAbandonRemote(_ id: UInt64, on engine: ProcessEngine) {
        state.withLock { if !$0.answered { $0.onAbandon = .remote(engine, id: id) } }
    }

    /// The attempt is `job` on `executor`: abandoning the call takes it back there.
    func setAbandonJob(_ job: PluginExecutor.Job, on executor: PluginExecutor) {
        state.withLock { if !$0.answered { $0.onAbandon = .job(job, executor) } }
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

    /// Runs `commit` and answers `result`, unless the call was abandoned before (then
    /// neither); the transport lets go of `releasing` where it takes the answer (see
    /// `UnaryCompletion`). The commit (a database transaction) runs outside the ticket's
    /// lock, so an event loop cancelling the call, or the watchdog, never waits for it: an
    /// abandonment meanwhile is carried out if the commit fails, and dropped if it succeeds
    /// (what committed is answered).
    func commitAndAnswer(releasing object: AnyObject? = nil, _ commit: () throws -> ByteBuffer) throws {
        try state.withLock { state in
            guard !state.abandoned, !state.answered, !state.committing else { throw RPCError(.deadlineExceeded, "the caller stopped waiting") }
            state.committing = true
        }
        let result: ByteBuffer
        do {
            result = try commit()
        } catch {
            let abandonment = state.withLock { state -> (Answerer?, RPCError)? in
                state.committing = false
                guard let reason = state.abandonAfterCommit else { return nil }
                state.answered = true
                state.abandoned = true
                state.abandonedAt = .now
                defer { state.letGo() }
                return (state.completion, reason)
            }
            if let (completion, reason) = abandonment {
                completion?.answer(.failure(reason))
                finishIfIdle()
            }
            throw error
        }
        let completion = state.withLock { state -> Answerer? in
            state.committing = false
            state.answered = true
            defer { state.letGo() }
            return state.completion
        }
        completion?.answer(.success(result), releasing: object)
        finishIfIdle()
    }

    /// Answers with an error (no commit).
    func fail(_ error: RPCError) {
        let completion = state.withLock { state -> Answerer? in
            guard !state.answered, !state.committing else { return nil }  // a commit running answers
            state.answered = true
            defer { state.letGo() }
            return state.completion
        }
        completion?.answer(.failure(error))
        finishIfIdle()
    }

    /// Stops waiting for the plugin: answers `error` now, commits nothing the plugin does
    /// later, and takes back the attempt in progress; during a commit, once it ended (see
    /// `commitAndAnswer`). False when the call had already been answered.
    @discardableResult
    func abandon(_ error: RPCError) -> Bool {
        let (completion, hook, deferred) = state.withLock { state -> (Answerer?, AbandonAction?, Bool) in
            guard !state.answered else { return (nil, nil, false) }
            if state.committing {
                state.abandonAfterCommit = state.abandonAfterCommit ?? error
                return (nil, nil, true)
            }
            state.answered = true
            state.abandoned = true
            state.abandonedAt = .now
            defer { state.letGo() }
            return (state.completion, state.onAbandon, false)
        }
        if deferred { return true }
        guard let completion else { return false }
        hook?.run()
        completion.answer(.failure(error))
        finishIfIdle()
        return true
    }

    /// Abandoned while its hook still runs: since when it was abandoned.
    var stuckSince: ContinuousClock.Instant? {
        state.withLock { $0.hookRunning ? $0.abandonedAt : nil }
    }

    var isAnswered: Bool { state.withLock { $0.answered } }

    /// Whether an unload drains it: not answered yet, or its hook still runs within its
    /// deadline (an event reaction whose delivery was stopped, a call its caller left); a
    /// hook stuck past its deadline is not waited for.
    func isDraining(at now: ContinuousClock.Instant) -> Bool {
        state.withLock { !$0.answered || ($0.hookRunning && now < deadline) }
    }

    /// The caller stopped waiting (CANCEL, its deadline, the connection closed).
    func callCancelled() {
        abandon(RPCError(.cancelled, "the call was cancelled"))
    }

    private func finishIfIdle() {
        if state.withLock({ !$0.hookRunning }) { activity.remove(self) }
    }
}

/// A plugin's calls in flight (answered or not, while their hook runs): for deadlines,
/// draining on unload, and telling a degraded plugin (hooks stuck past their deadline).
final class PluginActivity: @unchecked Sendable {
    /// Tickets in slots reused through a free list: registering and removing one hashes nothing.
    private struct Registry {
        var slots: [CallTicket?] = []
        var free: [Int] = []
        /// The request bytes of the tickets registered.
        var requestBytes = 0
    }

    private let registry = Locked(Registry())
    /// The most request bytes its calls may hold at once (answered or not, while their hook
    /// runs): past it a new call is refused rather than queued, so callers cannot make the
    /// server hold requests without bound for a plugin that is slow, hung, or isolated
    /// behind a connection that would fill (`admittedTicket`).
    let maxRequestBytes: Int

    init(maxRequestBytes: Int = PluginActivity.defaultMaxRequestBytes) {
        self.maxRequestBytes = maxRequestBytes
    }

    static let defaultMaxRequestBytes = 64 << 20

    /// A registered ticket for a new call.
    func ticket(deadline: ContinuousClock.Instant, label: String,
                completion: @escaping @Sendable (Result<[UInt8], RPCError>) -> Void) -> CallTicket {
        ticket(deadline: deadline, label: label, answerer: .closure(completion))
    }

    /// A registered ticket for a new call, answered through `answerer`.
    func ticket(deadline: ContinuousClock.Instant, label: String, answerer: CallTicket.Answerer) -> CallTicket {
        admittedTicket(deadline: deadline, label: label, answerer: answerer, requestBytes: 0).ticket!
    }

    /// A registered ticket for a new call whose request holds `requestBytes`; nil (with the
    /// bytes held already) when that would take the plugin's calls past `maxRequestBytes`.
    /// A call alone is always admitted, however large its request.
    func admittedTicket(deadline: ContinuousClock.Instant, label: String, answerer: CallTicket.Answerer,
                        requestBytes: Int) -> (ticket: CallTicket?, held: Int) {
        let ticket = CallTicket(deadline: deadline, label: label, activity: self, completion: answerer)
        ticket.requestBytes = requestBytes
        let held = registry.withLock { registry -> Int? in
            guard requestBytes == 0 || registry.requestBytes == 0 || registry.requestBytes + requestBytes <= maxRequestBytes else {
                return registry.requestBytes
            }
            registry.requestBytes += requestBytes
            if let slot = registry.free.popLast() {
                ticket.slot = slot
                registry.slots[slot] = ticket
            } else {
                ticket.slot = registry.slots.count
                registry.slots.append(ticket)
            }
            return nil
        }
        return held.map { (nil, $0) } ?? (ticket, 0)
    }

    func remove(_ ticket: CallTicket) {
        registry.withLock { registry in
            let slot = ticket.slot
            guard slot >= 0, slot < registry.slots.count, registry.slots[slot] === ticket else { return }
            registry.slots[slot] = nil
            registry.free.append(slot)
            registry.requestBytes -= ticket.requestBytes
        }
    }

    /// The request bytes its calls hold now.
    var requestBytes: Int { registry.withLock { $0.requestBytes } }

    var all: [CallTicket] { registry.withLock { $0.slots.compactMap { $0 } } }
    var count: Int { registry.withLock { $0.slots.count - $0.free.count } }

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
