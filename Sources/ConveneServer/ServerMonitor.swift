import ConveneBuiltins
import ConveneProtos
import ConveneRPC
import ConveneStore
import ConveneTransport
import Dispatch
import Foundation
import Logging

/// Keeps health truthful and the log informed, once a second, on a dispatch queue of its
/// own (not the task pool, not an event loop, so that it runs when they are swamped):
///
/// - The server as a whole ("") is NOT_SERVING, saying why, only when it cannot serve:
///   request handlers starved (a task scheduled on the pool has not run for 5 s), or the
///   store failing (an I/O fault). "convene.store" reports the store: NOT_SERVING while
///   the disk is full (writes answer RESOURCE_EXHAUSTED; reads are served, and "" says so).
/// - Store failures are logged with their cause when they start, at most once a minute
///   while they last, and when they end (a write commits, or the disk has room again).
/// - Refusals by the memory budget and the connection limits are logged, at most every 10 s.
/// - When the load drops (the budget's use falls to a quarter of its peak, or many
///   connections close), the allocator's free pages go back to the system (`MemoryTuning`).
final class ServerMonitor: Sendable {
    enum StoreCondition: Equatable {
        case ok
        case full(String)
        case failing(String)
    }

    private struct State {
        var timer: (any DispatchSourceTimer)?
        var stopped = false
        /// A canary task was scheduled at this instant and has not run yet.
        var canarySince: ContinuousClock.Instant?
        var starvedFor: Duration?
        var store = StoreCondition.ok
        var lastStoreLog: ContinuousClock.Instant?
        var lastRefusalLog: ContinuousClock.Instant?
        var refusedAtLastLog = 0
        var lastTrim: ContinuousClock.Instant
        var peakHeld = 0
        var peakConnections = 0
        /// Resident memory just after the last trim.
        var residentAfterTrim = 0
        /// A trim the load's drop asked for is followed by one more at this instant.
        var followUpTrim: ContinuousClock.Instant?
    }

    static let starvationLimit = Duration.seconds(5)

    let health: HealthService
    let budget: MemoryBudget
    let limits: ConnectionLimits
    let dataDirectory: String
    let logger: Logger
    private let queue = DispatchQueue(label: "convene.monitor")
    private let state = Locked(State(lastTrim: .now))

    init(health: HealthService, budget: MemoryBudget, limits: ConnectionLimits, store: any ServerStore,
         dataDirectory: String, logger: Logger) {
        self.health = health
        self.budget = budget
        self.limits = limits
        self.dataDirectory = dataDirectory
        self.logger = logger
        store.observeWrites { [weak self] outcome in self?.storeOutcome(outcome) }
    }

    func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + 1, repeating: 1)
        timer.setEventHandler { [weak self] in self?.tick() }
        let resident = Self.residentBytes()
        state.withLock {
            $0.timer = timer
            $0.residentAfterTrim = resident
        }
        timer.resume()
    }

    /// The server is shutting down: health is the shutdown's from now on.
    func stop() {
        let timer = state.withLock { state -> (any DispatchSourceTimer)? in
            state.stopped = true
            defer { state.timer = nil }
            return state.timer
        }
        timer?.cancel()
    }

    // MARK: - Once a second

    private func tick() {
        let now = ContinuousClock.now
        checkHandlers(now: now)
        if case .full = state.withLock({ $0.store }), Self.freeSpace(dataDirectory).map({ $0 >= 1 << 20 }) ?? false {
            storeOutcome(nil, because: "the disk has room again")
        }
        logRefusals(now: now)
        trimIfLoadDropped(now: now)
    }

    /// Schedules a canary task, and notices when the last one has not run for too long.
    private func checkHandlers(now: ContinuousClock.Instant) {
        let (schedule, changed) = state.withLock { state -> (Bool, Bool) in
            guard let since = state.canarySince else {
                state.canarySince = now
                return (true, false)
            }
            let waited = now - since
            guard waited >= Self.starvationLimit else { return (false, false) }
            let wasStarved = state.starvedFor != nil
            state.starvedFor = waited
            return (false, !wasStarved)
        }
        if schedule { Task.detached { [weak self] in self?.canaryRan() } }
        if changed {
            logger.error("request handlers are starved: a task scheduled \(Self.starvationLimit) ago has not run")
            publish()
        }
    }

    private func canaryRan() {
        let recovered = state.withLock { state -> Bool in
            state.canarySince = nil
            defer { state.starvedFor = nil }
            return state.starvedFor != nil
        }
        if recovered {
            logger.notice("request handlers run again")
            publish()
        }
    }

    // MARK: - The store

    func storeOutcome(_ outcome: StoreError?, because reason: String = "a write committed") {
        let condition: StoreCondition
        switch outcome {
        case nil: condition = .ok
        case .full(let cause)?: condition = .full(cause)
        case .unavailable(let cause)?: condition = .failing(cause)
        case .duplicate?, .ruleViolated?: return
        }
        let now = ContinuousClock.now
        let (previous, logNow) = state.withLock { state -> (StoreCondition, Bool) in
            let previous = state.store
            state.store = condition
            let due = previous != condition || state.lastStoreLog.map { now - $0 >= .seconds(60) } ?? true
            if due, condition != .ok { state.lastStoreLog = now }
            return (previous, due)
        }
        switch condition {
        case .ok where previous != .ok:
            logger.notice("the store is writable again", metadata: ["why": "\(reason)"])
        case .full(let cause) where logNow:
            logger.error("the store is full: writes answer RESOURCE_EXHAUSTED until the disk has room",
                         metadata: ["cause": "\(cause)", "data-dir": "\(dataDirectory)"])
        case .failing(let cause) where logNow:
            logger.error("the store is failing: calls that use it answer UNAVAILABLE",
                         metadata: ["cause": "\(cause)", "data-dir": "\(dataDirectory)"])
        default:
            break
        }
        if previous != condition { publish() }
    }

    /// What health says, from what is known now.
    func publish() {
        let (stopped, starved, store) = state.withLock { ($0.stopped, $0.starvedFor, $0.store) }
        guard !stopped else { return }
        var problems: [String] = []
        if let starved {
            problems.append("request handlers are starved: a task scheduled \(starved) ago has not run")
        }
        switch store {
        case .ok:
            health.setStatus(.serving, for: Self.storeService)
        case .full:
            health.setStatus(.notServing, for: Self.storeService, message: Self.fullMessage)
        case .failing:
            problems.append("the store is failing (an I/O fault): calls that use it answer UNAVAILABLE")
            health.setStatus(.notServing, for: Self.storeService, message: problems.last)
        }
        if problems.isEmpty {
            health.setStatus(.serving, message: store == .ok ? nil : "degraded: \(Self.fullMessage)")
        } else {
            health.setStatus(.notServing, message: problems.joined(separator: "; "))
        }
    }

    /// The name health reports the store under.
    static let storeService = "convene.store"
    static let fullMessage = "the store is full: writes answer RESOURCE_EXHAUSTED; reads are served"

    static func freeSpace(_ directory: String) -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory),
              let free = attributes[.systemFreeSize] as? NSNumber else { return nil }
        return free.int64Value
    }

    // MARK: - Limits and memory

    private func logRefusals(now: ContinuousClock.Instant) {
        let refused = budget.refused
        let (due, since) = state.withLock { state -> (Bool, Int) in
            guard refused > state.refusedAtLastLog, state.lastRefusalLog.map({ now - $0 >= .seconds(10) }) ?? true else {
                return (false, 0)
            }
            defer {
                state.refusedAtLastLog = refused
                state.lastRefusalLog = now
            }
            return (true, refused - state.refusedAtLastLog)
        }
        if due {
            logger.warning("the memory budget refused new calls and data from connections that hold much", metadata: [
                "refused": "\(since)", "held": "\(budget.current)", "limit": "\(budget.limit)",
            ])
        }
        let connections = limits.takeRefusedCount()
        if connections > 0 {
            logger.warning("connections refused with OVERLOADED (connection limits)", metadata: [
                "refused": "\(connections)", "open": "\(limits.count)", "max-connections": "\(limits.maxConnections)",
                "max-connections-per-address": "\(limits.maxPerAddress)",
            ])
        }
    }

    /// After a burst, and at most every 5 s, the arenas' free pages go back: when the
    /// budget's use fell to a quarter of its peak, when at least 256 connections closed, or
    /// when the server holds little for its connections but its resident memory grew a fifth
    /// above what it was after the last trim (handler tasks, buffers of calls now ended).
    /// A trim for a drop of the load is followed by one more 3 s later: the budget falls when
    /// a connection closes, a little before the last of its buffers and tasks are freed, and
    /// a trim in between would leave those pages with the process until the next trigger.
    private func trimIfLoadDropped(now: ContinuousClock.Instant) {
        let held = budget.current, connections = limits.count, resident = Self.residentBytes()
        let due = state.withLock { state -> Bool in
            state.peakHeld = max(state.peakHeld, held)
            state.peakConnections = max(state.peakConnections, connections)
            if let followUp = state.followUpTrim, now >= followUp {
                state.followUpTrim = nil
                state.lastTrim = now
                return true
            }
            guard now - state.lastTrim >= .seconds(5) else { return false }
            let drained = state.peakHeld >= 16 << 20 && held < state.peakHeld / 4
            let closed = state.peakConnections - connections >= 256
            let grew = held < 4 << 20 && state.residentAfterTrim > 0 && resident > state.residentAfterTrim / 5 * 6
            let quiet = now - state.lastTrim >= .seconds(30)
            guard drained || closed || grew || quiet else { return false }
            if drained || closed { state.followUpTrim = now + .seconds(3) }
            state.lastTrim = now
            state.peakHeld = held
            state.peakConnections = connections
            return true
        }
        guard due else { return }
        MemoryTuning.trim()
        let after = Self.residentBytes()
        state.withLock { $0.residentAfterTrim = after }
    }

    /// This process's resident memory, from /proc/self/statm (0 where there is none).
    static func residentBytes() -> Int {
        guard let text = ProcFS.contents("/proc/self/statm") else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
