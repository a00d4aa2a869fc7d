import ConvenePluginHost
import ConveneRPC
import Foundation
import SwiftProtobuf

/// The server as a plugin sees it, in memory, for testing a plugin with no server: callers
/// are whoever the test says (by their credential), storage and the event log are
/// dictionaries and arrays, and what the plugin commits is recorded for the test to read.
public final class MemoryPluginServices: PluginServices, @unchecked Sendable {
    private let lock = NSLock()
    private var callers: [String: PluginCaller] = [:]
    private var hidden: Set<String> = []
    private var storage: [String: [[UInt8]: [UInt8]]] = [:]
    private var log: [DomainEvent] = []
    private var positions: [String: Int64] = [:]
    private var emitted: [PluginEvent] = []
    private var descriptorSets: [[UInt8]] = []
    /// Answers to `ask_rule`, by question, party ("" for the caller) and object.
    private var rules: [String: RuleAnswer] = [:]

    public init() {}

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: what a test sets

    /// Makes `credential` (the whole `authorization` value) stand for `caller`.
    public func setCaller(_ caller: PluginCaller, credential: String) { locked { callers[credential] = caller } }

    /// What `ask_rule` answers for `question` about party `partyID` (nil: the caller) and `objectID`.
    public func setRule(question: Int32, partyID: String?, objectID: String, answer: RuleAnswer) {
        locked { rules[Self.ruleKey(question, partyID, objectID)] = answer }
    }

    private static func ruleKey(_ question: Int32, _ partyID: String?, _ objectID: String) -> String {
        "\(question) \(partyID ?? "") \(objectID)"
    }

    /// Makes a meeting or operation invisible to every caller (`caller_may_see` answers 0).
    public func hide(_ objectID: String) { locked { _ = hidden.insert(objectID) } }

    /// Writes a plugin's storage directly (nil: delete), as if an earlier call had committed it.
    public func seed(plugin: String, key: [UInt8], value: [UInt8]?) { locked { storage[plugin, default: [:]][key] = value } }

    /// Appends a domain event to the log; its sequence.
    @discardableResult
    public func append(kind: String, payload: (Int64) -> [UInt8]) -> Int64 {
        locked {
            let sequence = Int64(log.count + 1)
            log.append(DomainEvent(sequence: sequence, kind: kind, payload: payload(sequence)))
            return sequence
        }
    }

    // MARK: what a test reads

    /// A plugin's committed storage, by key.
    public func committed(plugin: String) -> [[UInt8]: [UInt8]] { locked { storage[plugin] ?? [:] } }

    /// The events plugins emitted (committed), oldest first; `take` empties the list.
    public func emittedEvents(take: Bool) -> [PluginEvent] {
        locked {
            defer { if take { emitted = [] } }
            return emitted
        }
    }

    /// The sequence of the last event a plugin reacted to.
    public func position(plugin: String) -> Int64? { locked { positions[plugin] } }

    // MARK: PluginServices

    /// The server's own, as `ServerPluginServices` has them (a plugin tested here is refused
    /// the same kinds).
    public var serverEventNamespaces: Set<String> {
        ["operation", "mandate", "contribution", "contributor", "meeting", "statement", "concern", "summary", "report",
         "factsheet", "briefing", "attachment", "advice", "experience", "lesson"]
    }

    public func authenticate(_ metadata: Metadata) async throws -> PluginCaller {
        guard metadata["authorization"] != nil else { throw RPCError(.unauthenticated, "no credential") }
        guard let caller = knownCaller(metadata) else { throw RPCError(.unauthenticated, "unknown credential") }
        return caller
    }

    public func knownCaller(_ metadata: Metadata) -> PluginCaller? {
        guard let credential = metadata["authorization"] else { return nil }
        return locked { callers[credential] }
    }

    /// Meetings ("mtg-N") and operations ("op-N") exist and are visible unless hidden.
    public func maySee(_ caller: PluginCaller?, objectID: String) throws -> Bool? {
        guard objectID.hasPrefix("mtg-") || objectID.hasPrefix("op-") else { return nil }
        return locked { caller == nil || !hidden.contains(objectID) }
    }

    /// What the test set (`setRule`, the script's `rule`); otherwise, for the caller's access to
    /// an operation, what `hide` implies (existence only when hidden, else the Secretariat's,
    /// which an event delivery always has); for anything else, "cannot tell".
    public func askRule(_ caller: PluginCaller?, question: Int32, partyID: String?, objectID: String) throws -> RuleAnswer {
        locked {
            if let answer = rules[Self.ruleKey(question, partyID, objectID)] { return answer }
            if question == Self.operationAccess, partyID == nil, objectID.hasPrefix("op-") {
                let hiddenFromCaller = caller != nil && hidden.contains(objectID)
                return RuleAnswer(value: hiddenFromCaller ? 1 : 4, provision: "",
                                  reason: hiddenFromCaller ? "\(objectID) is hidden from the caller (the test's `hide`)" : "")
            }
            return RuleAnswer(value: -1, provision: "",
                              reason: "the test harness has no answer to question \(question) about \(objectID): set one with `rule`")
        }
    }

    /// CONVENE_RULE_OPERATION_ACCESS.
    static let operationAccess: Int32 = 1

    public func pluginCredential(plugin: String) throws -> String { "plugin \(plugin)" }

    public func pluginCredentialRefused(plugin: String, token: String) {}

    public func storageGet(plugin: String, key: [UInt8]) throws -> [UInt8]? { locked { storage[plugin]?[key] } }

    public func storageNext(plugin: String, prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]? {
        locked { next(plugin, prefix: prefix, after: after) }
    }

    /// Called locked.
    private func next(_ plugin: String, prefix: [UInt8], after: [UInt8]?) -> [UInt8]? {
        (storage[plugin] ?? [:]).keys
            .filter { key in key.starts(with: prefix) && after.map { $0.lexicographicallyPrecedes(key) } ?? true }
            .min { $0.lexicographicallyPrecedes($1) }
    }

    public func commit(plugin: String, reads: [(key: [UInt8], value: [UInt8]?)], listings: [StorageListing],
                       writes: [(key: [UInt8], value: [UInt8]?)], events: [PluginEvent], delivery: EventPositionMove?) throws {
        try locked {
            for read in reads where storage[plugin]?[read.key] != read.value { throw PluginStorageConflict() }
            for listing in listings where next(plugin, prefix: listing.prefix, after: listing.after) != listing.next {
                throw PluginStorageConflict()
            }
            if let delivery {
                guard (positions[plugin] ?? 0) == delivery.from else { throw PluginStorageConflict() }
                positions[plugin] = delivery.to
            }
            for write in writes { storage[plugin, default: [:]][write.key] = write.value }
            emitted += events
        }
    }

    /// A plugin seen for the first time starts at the log's end, as on a server.
    public func eventPosition(plugin: String) throws -> Int64 {
        locked {
            if let position = positions[plugin] { return position }
            positions[plugin] = Int64(log.count)
            return Int64(log.count)
        }
    }

    public func domainEvents(after sequence: Int64, kinds: [String], limit: Int) throws -> [DomainEvent] {
        locked {
            Array(log.filter { $0.sequence > sequence && (kinds.contains("*") || kinds.contains($0.kind)) }.prefix(limit))
        }
    }

    /// The harness is a server alone: it always delivers its plugin's events.
    public func holdEventLease(plugin: String, for duration: Duration) throws -> Bool { true }

    public func releaseEventLease(plugin: String) throws {}

    /// Parsed as the server parses it: a set that is no FileDescriptorSet fails the load here too.
    public func registerDescriptors(_ bytes: [UInt8], plugin: String, service: String) throws {
        _ = try Google_Protobuf_FileDescriptorSet(serializedBytes: bytes)
        locked { descriptorSets.append(bytes) }
    }

    public func unregisterDescriptors(plugin: String) {}

    public func setServing(_ serving: Bool?, service: String) {}
}
