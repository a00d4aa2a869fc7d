import ConveneRPC
import Foundation
import NIOCore
import NIOPosix

/// A plugin's own threads: at most `concurrency` of its hooks run at once, on threads no
/// other plugin (and no network event loop, no Swift task) uses. A hook abandoned while it
/// runs (past its deadline, cancelled) keeps its thread, which the plugin then no longer
/// counts: a new thread takes its place, up to `maxStuck` threads left stuck at once.
///
/// Hooks submitted on a network event loop (calls arriving in a read batch) wake the
/// plugin's threads once, at the end of that turn of the loop, when the queue's depth is
/// known: waking a thread per call made the plugin's threads sleep and wake for every
/// call, and the wake-ups (futex calls and context switches) were most of a trivial
/// plugin call's cost. Hooks submitted elsewhere wake a thread at once, if one is needed.
///
/// How many threads a queue needs is paced by how long the plugin's hooks typically run
/// (`HookPacing`): a thread running a hook that is expected to end soon will take the next
/// one, so a burst of microsecond hooks is served by one thread rather than by every thread
/// woken for a few hooks each. A hook that overruns no longer counts, and every submission,
/// every hook's end and the watchdog's tick (`rebalance`) look again.
final class PluginExecutor: @unchecked Sendable {
    /// One hook to run: a closure, or `run` overridden by a subclass (a plugin method's
    /// hook, which then needs no closure of its own). `phase` is guarded by the executor's monitor.
    class Job {
        enum Phase { case new, queued, running(Worker), finished, dropped }
        fileprivate(set) var phase = Phase.new
        private let body: (() -> Void)?

        init(_ body: @escaping () -> Void) { self.body = body }

        /// For a subclass that overrides `run`.
        init() { body = nil }

        func run() { body?() }
    }

    /// Guarded by the executor's monitor.
    final class Worker: @unchecked Sendable {
        /// A thread not the executor's own, lent to it between two reads (`runQueuedHere`).
        fileprivate let lent: Bool
        fileprivate var stuck = false
        /// In a hook, since `startedAt` (monotonic nanoseconds).
        fileprivate var busy = false
        fileprivate var startedAt: UInt64 = 0
        /// The wake-ups of connections its answers call for, held back while it runs a queue
        /// of short hooks (`HeldWakeups`); released when it stops, and by the watchdog's tick
        /// (or an abandonment) when a hook overran, so no answer waits for a hook that hangs.
        let held = HeldWakeups()

        init(lent: Bool = false) { self.lent = lent }
    }

    enum Abandoned { case dropped, stuck, finished }

    let name: String
    let concurrency: Int
    let maxStuck: Int
    private let monitor = Monitor()
    /// What the plugin's sleeping threads wait on: one post per wake-up (`wakeups`), one per
    /// sleeping thread at shutdown. (A condition variable's wait left the monitor marked
    /// contended, so that every wake-up cost a third system call, at the next unlock.)
    private let sleepers = Semaphore()
    /// Jobs in order; a slot is emptied when its job is taken, so that a job's last reference
    /// is its thread's (released outside the monitor, not while the event loop may wait for it).
    private var queue: [Job?] = []
    private var head = 0
    /// The plugin's threads (not the stuck ones), of which `running` are in a hook and
    /// `sleeping` wait for work; `wakeups` of the sleeping ones were signalled already.
    private var threads = 0
    private var running = 0
    private var sleeping = 0
    private var wakeups = 0
    private var stuckThreads = 0
    /// Lent threads in a hook now (`runQueuedHere`); they count against `concurrency`.
    private var lentRunning = 0
    /// The plugin's threads (not the stuck ones), busy or not.
    private var workers: [Worker] = []
    private var pacing: HookPacing
    private var closed = false
    /// Event loops with a wake-up of this executor's threads due at the end of their turn: a
    /// list, not a set (rarely more than the loops of a few connections; a set hashed every call).
    private var wakeDueOn: [ObjectIdentifier] = []

    /// Longest a thread holds back its answers' wake-ups while it runs more hooks (nanoseconds).
    private let answerHold: UInt64

    init(name: String, concurrency: Int, maxStuck: Int, pacing: HookPacing = HookPacing(),
         answerHold: UInt64 = HookPacing.answerHold) {
        self.name = name
        self.answerHold = answerHold
        self.pacing = pacing
        self.concurrency = max(1, concurrency)
        self.maxStuck = max(0, maxStuck)
    }

    /// Queues a hook; false once the executor is shut down. A thread is woken (or started)
    /// only when fewer threads are about to look at the queue than it needs (`wakeIfNeeded`),
    /// so a burst of short calls is taken by the threads already awake, one wake-up each at most.
    /// With `wake` false, no thread is woken: the caller calls `rebalance` once it has queued
    /// a batch (a plugin runner, for the calls it read at once). With `unlessStuck`, false too
    /// when the plugin's threads are all stuck past `maxStuck` (`isExhaustedByStuckHooks`):
    /// checked under the lock the submission takes anyway, not in a second one per call.
    @discardableResult
    func submit(_ job: Job, wake wakeNow: Bool = true, unlessStuck: Bool = false) -> Bool {
        let loop = wakeNow ? MultiThreadedEventLoopGroup.currentEventLoop : nil
        monitor.lock()
        guard !closed, case .new = job.phase, !(unlessStuck && exhausted) else {
            monitor.unlock()
            return false
        }
        job.phase = .queued
        queue.append(job)
        var wake = false
        var wakeAtEndOfTurn = false
        if let loop {
            // The threads already awake take what they can meanwhile.
            let id = ObjectIdentifier(loop)
            wakeAtEndOfTurn = !wakeDueOn.contains(id)
            if wakeAtEndOfTurn { wakeDueOn.append(id) }
        } else if wakeNow {
            wake = wakeIfNeeded()
        }
        monitor.unlock()
        // Signalled with the lock released, so the thread woken does not wait for it at once.
        if wake { sleepers.post() }
        if wakeAtEndOfTurn, let loop {
            loop.execute { self.wakeForQueue(dueOn: ObjectIdentifier(loop)) }
        }
        return true
    }

    /// At the end of an event loop's turn: wakes (or starts) as many threads as the jobs
    /// queued meanwhile need, at most one per job not already covered by a thread awake.
    private func wakeForQueue(dueOn loop: ObjectIdentifier) {
        monitor.lock()
        wakeDueOn.removeAll { $0 == loop }
        let signals = wakeAsNeeded()
        monitor.unlock()
        for _ in 0..<signals { sleepers.post() }
    }

    /// Wakes (or starts) threads for hooks queued behind one that overran: the watchdog's
    /// tick, so that nothing waits for long behind a hook that hangs while no other call comes.
    /// Also releases the answers' wake-ups a thread held back before a hook that overran.
    func rebalance() {
        monitor.lock()
        let signals = wakeAsNeeded()
        let now = monotonicNanos()
        let overran = workers.filter { $0.busy && now &- $0.startedAt >= HookPacing.minimumOverrun }
        monitor.unlock()
        for _ in 0..<signals { sleepers.post() }
        for worker in overran { worker.held.release() }
    }

    /// Called with the monitor held: starts the threads the queue needs, and says how many
    /// sleeping ones to signal.
    private func wakeAsNeeded() -> Int {
        var signals = 0
        while !closed, signals < concurrency {
            let before = threads
            if wakeIfNeeded() {
                signals += 1
            } else if threads == before {
                break
            }
        }
        return signals
    }

    /// Called with the monitor held: starts a thread, or says to signal a sleeping one, when
    /// fewer threads look at the queue than it needs (`HookPacing`). Threads awake and idle,
    /// or signalled already, look at it; so does a busy one whose hook is expected to end soon.
    private func wakeIfNeeded() -> Bool {
        let backlog = queue.count - head
        guard backlog > 0 else { return false }
        let needed = pacing.lookersNeeded(backlog: backlog)
        var lookers = threads - running - sleeping + wakeups
        if lookers < needed, running > 0 {
            let now = monotonicNanos()
            for worker in workers where worker.busy && pacing.endsSoon(elapsed: now &- worker.startedAt) {
                lookers += 1
            }
        }
        guard lookers < needed, running + lentRunning < concurrency else { return false }
        if sleeping > wakeups {
            wakeups += 1
            return true
        }
        if threads + lentRunning < concurrency, stuckThreads <= maxStuck { startThread() }
        return false
    }

    /// Takes a job back: a queued one never runs; a running one leaves its thread stuck and
    /// a new thread takes its place (while fewer than `maxStuck` are stuck).
    func abandon(_ job: Job) -> Abandoned {
        monitor.lock()
        let (outcome, overran) = abandonLocked(job)
        monitor.unlock()
        overran?.held.release()
        return outcome
    }

    /// Called with the monitor held; also says whose held wake-ups to release.
    private func abandonLocked(_ job: Job) -> (Abandoned, Worker?) {
        switch job.phase {
        case .new, .queued:
            job.phase = .dropped
            return (.dropped, nil)
        case .running(let worker):
            guard !worker.stuck else { return (.stuck, worker) }
            worker.stuck = true
            worker.busy = false
            stuckThreads += 1
            if worker.lent {
                // Its thread goes on with the hook; the queue is the plugin's threads' again.
                lentRunning -= 1
                if !closed, wakeIfNeeded() { sleepers.post() }
                return (.stuck, worker)
            }
            workers.removeAll { $0 === worker }
            threads -= 1
            running -= 1
            if !closed, wakeIfNeeded() { sleepers.post() }
            return (.stuck, worker)
        case .finished, .dropped:
            return (.finished, nil)
        }
    }

    /// Runs queued hooks on the calling thread, which the executor borrows meanwhile: a
    /// runner's reader between two reads, so that a burst of short hooks costs no wake-up of
    /// the plugin's threads. Only while the plugin's hooks are known to be short
    /// (`HookPacing.minimumOverrun`), no thread of its own is awake to take them, and the
    /// plugin has a hook to spare (`concurrency`); at most `limit` hooks. A hook abandoned
    /// while it ran here leaves `worker` stuck: the caller must then give up what else its
    /// thread does (the runner hands reading to another thread). Returns how many hooks ran.
    func runQueuedHere(_ worker: Worker, limit: Int) -> Int {
        precondition(worker.lent)
        var ran = 0
        var finished: Job?
        monitor.lock()
        while ran < limit, !closed, !worker.stuck, head < queue.count,
              (pacing.typicalNanos ?? .max) < HookPacing.minimumOverrun,
              threads - running - sleeping + wakeups <= 0, running + lentRunning < concurrency {
            let taken = queue[head]
            queue[head] = nil
            head += 1
            guard let job = taken, case .queued = job.phase else { continue }
            job.phase = .running(worker)
            lentRunning += 1
            let started = monotonicNanos()
            worker.busy = true
            worker.startedAt = started
            monitor.unlock()
            finished = nil
            job.run()
            ran += 1
            let ended = monotonicNanos()
            monitor.lock()
            pacing.record(nanos: ended &- started)
            if case .running = job.phase { job.phase = .finished }
            if worker.stuck {
                stuckThreads -= 1
                break
            }
            worker.busy = false
            lentRunning -= 1
            finished = job
        }
        if head > 64, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        monitor.unlock()
        if finished != nil { finished = nil }  // the last job let go of outside the monitor
        return ran
    }

    /// How long `worker` has been in its hook (nanoseconds); nil when it is in none.
    func hookElapsed(_ worker: Worker) -> UInt64? {
        monitor.lock()
        defer { monitor.unlock() }
        return worker.busy ? monotonicNanos() &- worker.startedAt : nil
    }

    /// A thread to lend to `runQueuedHere`.
    func lendableWorker() -> Worker { Worker(lent: true) }

    /// Starts from `pacing` as what is known of the plugin's hooks (tests).
    func assume(_ pacing: HookPacing) {
        monitor.lock()
        self.pacing = pacing
        monitor.unlock()
    }

    /// Whether hooks are queued that a thread will take soon: hooks of this plugin typically
    /// end within `HookPacing.minimumOverrun`.
    var hasShortHooksQueued: Bool {
        monitor.lock()
        defer { monitor.unlock() }
        return head < queue.count && (pacing.typicalNanos ?? .max) < HookPacing.minimumOverrun
    }

    /// Whether no hook can run now, nor soon: every thread of the plugin is stuck in a hook past
    /// its deadline and no more may be started (`maxStuck`): a new call would only wait for one
    /// to return (if ever).
    var isExhaustedByStuckHooks: Bool {
        monitor.lock()
        defer { monitor.unlock() }
        return !closed && exhausted
    }

    /// Called with the monitor held.
    private var exhausted: Bool { threads == 0 && lentRunning == 0 && stuckThreads > maxStuck }

    /// The plugin's threads asleep, waiting for work.
    var sleepingThreads: Int {
        monitor.lock()
        defer { monitor.unlock() }
        return sleeping
    }

    /// Hooks running past abandonment right now.
    var stuck: Int {
        monitor.lock()
        defer { monitor.unlock() }
        return stuckThreads
    }

    /// Lets idle threads end; queued jobs are dropped; running ones finish on their own.
    func shutDown() {
        monitor.lock()
        closed = true
        for job in queue[head...] { job?.phase = .dropped }
        queue.removeAll()
        head = 0
        let sleeping = sleeping
        monitor.unlock()
        for _ in 0..<sleeping { sleepers.post() }
    }

    /// Called with the monitor held.
    private func startThread() {
        threads += 1
        let worker = Worker()
        workers.append(worker)
        let thread = Thread { [self] in work(worker) }
        thread.name = "plugin \(name)"
        thread.start()
    }

    private func work(_ worker: Worker) {
        // The job this thread ran last, released with the monitor unlocked (its deinit frees
        // the call's objects): holding the monitor meanwhile kept the event loop waiting.
        var finished: Job?
        /// When the last hook ended, while this thread goes straight on to the next: that is
        /// the next one's start (one clock read per hook; the clock is not free on every host).
        var lastEnded: UInt64?
        /// When this thread first held back a wake-up since it last released them.
        var heldSince: UInt64?
        let held = worker.held
        held.install()
        defer { held.uninstall() }
        monitor.lock()
        while true {
            // Hooks lent threads run (`runQueuedHere`) count against `concurrency` too.
            while head == queue.count || running + lentRunning >= concurrency, !closed {
                lastEnded = nil
                if finished != nil || heldSince != nil {
                    // Let go of before sleeping, not when woken: the event loop that takes
                    // the answer should hold the call's last reference. Then the loops are
                    // woken for the answers held back.
                    monitor.unlock()
                    finished = nil
                    heldSince = nil
                    held.release()
                    monitor.lock()
                    continue
                }
                sleeping += 1
                monitor.unlock()
                sleepers.wait()
                monitor.lock()
                sleeping -= 1
                if wakeups > 0 { wakeups -= 1 }
            }
            if closed {
                threads -= 1
                workers.removeAll { $0 === worker }
                monitor.unlock()
                return
            }
            let taken = queue[head]
            queue[head] = nil
            head += 1
            if head > 64, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            guard let job = taken, case .queued = job.phase else { continue }
            job.phase = .running(worker)
            running += 1
            let started = lastEnded ?? monotonicNanos()
            worker.busy = true
            worker.startedAt = started
            monitor.unlock()
            finished = nil
            job.run()
            let ended = monotonicNanos()
            lastEnded = ended
            monitor.lock()
            pacing.record(nanos: ended &- started)
            if case .running = job.phase { job.phase = .finished }
            if worker.stuck {
                // Replaced while it ran: this thread is no longer the plugin's to keep.
                stuckThreads -= 1
                let wake = !closed && wakeIfNeeded()
                monitor.unlock()
                if wake { sleepers.post() }
                return
            }
            worker.busy = false
            running -= 1
            finished = job
            if heldSince == nil { heldSince = ended }
            // Answers wait for the next hook only while it is expected to be short, and not
            // for long in all (`HookPacing.answerHold`).
            let release = !pacing.holdsAnswers(queued: queue.count - head, since: heldSince!, now: ended, limit: answerHold)
            // Hooks longer than thought (or a queue grown meanwhile) may want more threads.
            let wake = wakeIfNeeded()
            if wake || release {
                monitor.unlock()
                if wake { sleepers.post() }
                if release {
                    heldSince = nil
                    held.release()
                }
                monitor.lock()
            }
        }
    }
}
