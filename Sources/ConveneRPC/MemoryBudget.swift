import Synchronization

/// The server-wide budget for buffered protocol data (`convened --max-buffered-bytes`):
/// request bytes held for calls, metadata of open calls, and responses waiting for the
/// client, over every connection of both listeners.
///
/// Each connection keeps its own `BudgetAccount` and reports to the budget in steps of
/// `reportingStep`, so a small call never touches the shared counter. When the total
/// passes `pressureThreshold` (three quarters of the limit), connections holding more
/// than `lightConnectionBytes` get their new calls and new data refused, while light ones
/// (a health probe, a small authenticated call) are still admitted up to the limit.
public final class MemoryBudget: Sendable {
    public let limit: Int
    public let pressureThreshold: Int
    /// A connection holding less than this is never refused below the limit.
    public static let lightConnectionBytes = 64 * 1024
    /// An account reports its changes once they reach this many bytes.
    public static let reportingStep = 16 * 1024

    private let used = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)
    private let refusals = Atomic<Int>(0)

    public init(limit: Int) {
        self.limit = max(limit, 1)
        self.pressureThreshold = self.limit / 4 * 3
    }

    /// Bytes reported as held right now, over every connection.
    public var current: Int { used.load(ordering: .relaxed) }
    /// The most ever reported at once.
    public var highWater: Int { peak.load(ordering: .relaxed) }
    /// How many charges were refused so far.
    public var refused: Int { refusals.load(ordering: .relaxed) }

    func add(_ delta: Int) {
        let now = used.wrappingAdd(delta, ordering: .relaxed).newValue
        if delta > 0, now > peak.load(ordering: .relaxed) { peak.store(now, ordering: .relaxed) }
    }

    /// Whether an account holding `held` may take `bytes` more.
    func admits(holding held: Int, adding bytes: Int) -> Bool {
        let total = used.load(ordering: .relaxed) + bytes
        if total <= pressureThreshold { return true }
        if total <= limit, held + bytes <= Self.lightConnectionBytes { return true }
        refusals.wrappingAdd(1, ordering: .relaxed)
        return false
    }

    /// Why a charge was refused, for the status message.
    public var refusalMessage: String {
        "the server's memory budget for buffered data is spent (\(current) of \(limit) bytes, --max-buffered-bytes); try again later"
    }

    /// A default for a machine with `physicalMemory` bytes: an eighth of it, at least 64 MiB.
    public static func defaultLimit(physicalMemory: UInt64) -> Int {
        max(64 << 20, Int(clamping: physicalMemory / 8))
    }
}

/// One connection's part of a `MemoryBudget`, confined to the connection's event loop. With
/// no budget it only counts.
public struct BudgetAccount: Sendable {
    public let budget: MemoryBudget?
    /// Bytes this connection holds now.
    public private(set) var held = 0
    private var reported = 0

    public init(budget: MemoryBudget?) {
        self.budget = budget
    }

    /// Whether `bytes` more may be taken now (always, without a budget).
    public func admits(_ bytes: Int) -> Bool {
        budget?.admits(holding: held, adding: bytes) ?? true
    }

    public mutating func charge(_ bytes: Int) {
        held += bytes
        report()
    }

    public mutating func release(_ bytes: Int) {
        held -= bytes
        report()
    }

    /// Sets a figure the connection reads rather than counts (bytes waiting in the socket's
    /// queue): charges or releases the difference from `previous`.
    public mutating func update(_ previous: inout Int, to now: Int) {
        guard now != previous else { return }
        held += now - previous
        previous = now
        report()
    }

    /// Everything goes back (the connection closed).
    public mutating func close() {
        held = 0
        report()
    }

    private mutating func report() {
        guard let budget else { return }
        let delta = held - reported
        guard delta >= MemoryBudget.reportingStep || delta <= -MemoryBudget.reportingStep || (held == 0 && delta != 0)
        else { return }
        budget.add(delta)
        reported = held
    }
}
