import ConveneRPC
import Synchronization

/// How many `WatchOperation` streams a party may hold open at once: on one operation, and in
/// all. Every event committed on an operation is read again, in a transaction of its own, by
/// each stream watching it; one troop contributor's 2,000 streams on one operation made every
/// write on it take a second, and slowed every other party's calls as much.
public struct WatchLimits: Sendable {
    public var perOperation: Int
    public var perParty: Int

    /// The defaults leave room for the many systems one party may run (the Secretariat is one
    /// party), and bound one party's amplification of each write to 32 reads per server.
    public init(perOperation: Int = 32, perParty: Int = 512) {
        self.perOperation = perOperation
        self.perParty = perParty
    }
}

/// The streams each party holds open, against `WatchLimits`.
final class WatchQuota: Sendable {
    private struct Open {
        var byParty: [Int64: Int] = [:]
        var byPartyAndOperation: [PartyOperation: Int] = [:]
    }

    private struct PartyOperation: Hashable {
        var party: Int64
        var operation: Int64
    }

    let limits: WatchLimits
    private let open = Mutex(Open())

    init(limits: WatchLimits) {
        self.limits = limits
    }

    /// Counts a stream of `party` on `operation`; RESOURCE_EXHAUSTED, naming the limit, when it
    /// has as many open as it may. Each stream counted is let go of with `close`.
    func open(party: Int64, operation: Int64, operationID: String) throws(RPCError) {
        let key = PartyOperation(party: party, operation: operation)
        try open.withLock { (open: inout Open) throws(RPCError) in
            let onOperation = open.byPartyAndOperation[key, default: 0]
            guard onOperation < limits.perOperation else {
                throw RPCError(.resourceExhausted,
                    "the caller already watches \(operationID) in \(onOperation) streams, the most a party may hold open on one operation; close one first")
            }
            let all = open.byParty[party, default: 0]
            guard all < limits.perParty else {
                throw RPCError(.resourceExhausted,
                    "the caller already has \(all) WatchOperation streams open, the most a party may hold; close one first")
            }
            open.byPartyAndOperation[key] = onOperation + 1
            open.byParty[party] = all + 1
        }
    }

    func close(party: Int64, operation: Int64) {
        let key = PartyOperation(party: party, operation: operation)
        open.withLock { open in
            if let count = open.byPartyAndOperation[key] { open.byPartyAndOperation[key] = count > 1 ? count - 1 : nil }
            if let count = open.byParty[party] { open.byParty[party] = count > 1 ? count - 1 : nil }
        }
    }
}
