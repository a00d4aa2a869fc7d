import ConveneBuiltins
import ConveneDomain
import ConveneRPC
import ConvenePluginHost
import ConveneProtos
import ConveneServices
import ConveneStore
import Foundation

/// The plugin host's view of the server: identity and visibility by the services' own
/// rules, plugin storage and event positions in the server's database, plugin events into
/// the operation's event log, descriptors into reflection, plugin health into health, and
/// a principal per plugin for calls made "as the plugin".
final class ServerPluginServices: PluginServices {
    let store: any ServerStore
    let events: EventBus
    let descriptors: DescriptorRegistry
    let health: HealthService
    /// Bytes each plugin's storage may hold.
    let storageLimit: Int64
    private let credentials = Locked<[String: String]>([:])
    /// Who a credential (the whole authorization value) belongs to, as of a credentials
    /// version of the store: good while the version is unchanged (a revocation changes it).
    /// A store shared with other servers has no version (a revocation there is not seen
    /// here at once): nothing is cached.
    private let callers = Locked<(version: Int, byCredential: CredentialMemo<PluginCaller>)>(
        (-1, CredentialMemo(capacity: ServerPluginServices.maxCachedCallers)))
    static let maxCachedCallers = 10_000

    init(store: any ServerStore, events: EventBus, descriptors: DescriptorRegistry, health: HealthService,
         storageLimit: Int64 = ServerConfiguration().pluginStorageLimit) {
        self.store = store
        self.storageLimit = storageLimit
        self.events = events
        self.descriptors = descriptors
        self.health = health
    }

    /// The services' own check (`Authenticator`), answered from memory while no credential
    /// or party changed since (the version is read before the database, so a change that
    /// races the read only makes the answer be thrown away).
    static let eventNamespaces = Set(OperationEventKind.allCases.map { String($0.rawValue.prefix { $0 != "." }) })
    var serverEventNamespaces: Set<String> { Self.eventNamespaces }

    func knownCaller(_ metadata: Metadata) -> PluginCaller? {
        // Two credentials are refused by `authenticate`, which is asked when this answers nil.
        guard let version = store.credentialsVersion, let credential = try? Authenticator.credential(in: metadata) else { return nil }
        return callers.withLock { $0.version == version ? $0.byCredential.value(for: credential) : nil }
    }

    func authenticate(_ metadata: Metadata) async throws -> PluginCaller {
        let version = store.credentialsVersion
        let credential = try Authenticator.credential(in: metadata)
        if let version, let credential,
           let known = callers.withLock({ $0.version == version ? $0.byCredential.value(for: credential) : nil }) {
            return known
        }
        let hash = try Authenticator.tokenHash(metadata)
        // The store's asynchronous read: this runs in a task (see PluginServices.authenticate).
        let party = try await store.read { db in try Authenticator.party(tokenHash: hash, db) }
        let caller = PluginCaller(partyID: "party-\(party.id ?? 0)", roles: Set(party.party.roles.map { Int32($0.rawValue) }))
        if let version, let credential {
            callers.withLock { cache in
                if cache.version != version {
                    cache.version = version
                    cache.byCredential.removeAll()
                }
                cache.byCredential.keep(caller, for: credential)
            }
        }
        return caller
    }

    /// A meeting is seen by its invitees, the President and the Secretariat (`MeetingRules.maySee`,
    /// as GetMeeting and WatchOperation apply it); an operation's records by every party with a
    /// part in it (`AccessRules`, as ListContributions applies it): a party with none knows only
    /// that the operation exists, which no plugin record adds to.
    func maySee(_ caller: PluginCaller?, objectID: String) throws -> Bool? {
        guard let object = ObjectID(objectID) else { return nil }
        return try store.syncRead { db in
            switch object {
            case .operation(let id):
                let callerID = caller.map { ObjectID.number($0.partyID, prefix: "party-") ?? 0 }
                return try PluginRuleAnswers.mayReadOperation(callerID: callerID, operationID: id, db)
            case .meeting(let id):
                guard try db.meeting(id: id) != nil else { return false }
                guard let caller else { return true }
                guard let partyID = ObjectID.number(caller.partyID, prefix: "party-"), let party = try db.party(id: partyID) else {
                    return false
                }
                return try db.maySeeMeeting(id, caller: party.party)
            }
        }
    }

    /// The rules' answers, from ConveneDomain through the services (`PluginRuleAnswers`).
    func askRule(_ caller: PluginCaller?, question: Int32, partyID: String?, objectID: String) throws -> RuleAnswer {
        let callerID = caller.map { ObjectID.number($0.partyID, prefix: "party-") ?? 0 }
        let answer = try store.syncRead { db in
            try PluginRuleAnswers.answer(question, callerID: callerID, partyID: partyID, objectID: objectID, db)
        }
        return RuleAnswer(value: answer.value, provision: answer.provision, reason: answer.reason)
    }

    /// Each plugin acts under a principal of its own: a party of kind PLUGIN, holding the
    /// Secretariat role (the Annex I mechanisms are the Secretary-General's), never invited.
    func pluginCredential(plugin: String) throws -> String {
        if let token = credentials.withLock({ $0[plugin] }) { return token }
        let token = TokenHashing.newToken()
        let name = PartyRules.pluginPrincipalName(plugin)
        let hash = TokenHashing.hash(token)
        let record = { @Sendable (db: any StoreWriter) throws in
            let existing = try db.party(named: name)
            if let other = existing, other.kind != PartyKind.plugin.rawValue {
                // Registered before the name was reserved: never taken as the plugin's principal.
                throw RPCError(.failedPrecondition, "party-\(other.id ?? 0) is named '\(name)' but is not plugin \(plugin)'s principal; rename it so the plugin can act under its own")
            }
            let party = try existing ?? db.insert(PartyRecord(name: name, kind: .plugin, roles: [.secretariatStaff]))
            _ = try db.insert(CredentialRecord(partyID: party.id!, tokenHash: hash, label: "plugin \(plugin)",
                                               createdAt: Int64(Date().timeIntervalSince1970 * 1000)))
        }
        do {
            try store.syncWrite(record)
        } catch StoreError.duplicate {
            // Another server made the plugin's party at the same moment: it exists now.
            try store.syncWrite(record)
        }
        credentials.withLock { $0[plugin] = token }
        return token
    }

    func pluginCredentialRefused(plugin: String, token: String) {
        credentials.withLock { if $0[plugin] == token { $0[plugin] = nil } }
    }

    func storageGet(plugin: String, key: [UInt8]) throws -> [UInt8]? {
        try store.pluginGet(plugin: plugin, key: key)
    }

    func storageNext(plugin: String, prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]? {
        try store.pluginNext(plugin: plugin, prefix: prefix, after: after)
    }

    func commit(plugin: String, reads: [(key: [UInt8], value: [UInt8]?)], listings: [StorageListing],
                writes: [(key: [UInt8], value: [UInt8]?)], events: [PluginEvent], delivery: EventPositionMove?) throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let records = try events.compactMap { event -> EventRecord? in
            guard let (operationID, meetingID) = try subject(event.subjectID) else { return nil }
            // A narrower audience is an operation's event's only (PluginCall.emit refuses the rest).
            guard event.audience == .subject || meetingID == nil else { return nil }
            // Recorded as the plugin's: WatchOperation shows it to whoever may see its meeting,
            // or to the audience the plugin named.
            let audience: EventAudience?
            switch event.audience {
            case .subject: audience = nil
            case .contributors: audience = .contributors
            case .councilSecretariatAnd(let party):
                // Checked when emitted (PluginCall.emit); one that is not a party id is not recorded.
                guard let id = ObjectID.number(party, prefix: "party-") else { return nil }
                audience = .councilSecretariatAnd(party: id)
            }
            return EventRecord(operationID: operationID, kind: event.kind, subjectID: "plugin:\(plugin)",
                               description: event.description, meetingID: meetingID, time: now, audience: audience)
        }
        let committed: [EventRecord]?
        do {
            committed = try store.pluginCommit(plugin: plugin, reads: reads, listings: listings, writes: writes, events: records,
                                               position: delivery.map { ($0.from, $0.to) }, storageLimit: storageLimit)
        } catch let full as PluginStorageLimitExceeded {
            throw RPCError(.resourceExhausted, Self.describe(full))
        }
        guard let stored = committed else { throw PluginStorageConflict() }
        self.events.publish(stored)
    }

    static func describe(_ full: PluginStorageLimitExceeded) -> String {
        "plugin \(full.plugin): its storage would hold \(full.bytes) bytes, over its limit of \(full.limit) (--plugin-storage-limit); nothing of this call was committed"
    }

    /// The operation (and meeting) an event about `subjectID` belongs to.
    private func subject(_ subjectID: String) throws -> (Int64, Int64?)? {
        switch ObjectID(subjectID) {
        case .operation(let id)?: return (id, nil)
        case .meeting(let id)?: return try store.syncRead { db in try db.meeting(id: id).map { ($0.operationID, id) } }
        case nil: return nil
        }
    }

    func eventPosition(plugin: String) throws -> Int64 {
        try store.pluginEventPosition(plugin: plugin)
    }

    /// On a store shared by several servers, one server at a time delivers a plugin's events
    /// (a lease in the database, renewed while it delivers); a server alone always does.
    func holdEventLease(plugin: String, for duration: Duration) throws -> Bool {
        try store.holdPluginEventLease(plugin: plugin, for: duration)
    }

    func releaseEventLease(plugin: String) throws {
        try store.releasePluginEventLease(plugin: plugin)
    }

    func domainEvents(after sequence: Int64, kinds: [String], limit: Int) throws -> [DomainEvent] {
        try store.domainEvents(after: sequence, kinds: kinds, limit: limit).map {
            DomainEvent(sequence: $0.sequence ?? 0, kind: $0.kind, payload: OperationEvents.serialized($0))
        }
    }

    func registerDescriptors(_ bytes: [UInt8], plugin: String, service: String) throws {
        try descriptors.add(fileDescriptorSet: bytes, plugin: plugin, service: service)
    }

    func unregisterDescriptors(plugin: String) {
        descriptors.remove(plugin: plugin)
    }

    func setServing(_ serving: Bool?, service: String) {
        switch serving {
        case true?: health.setStatus(.serving, for: service)
        case false?: health.setStatus(.notServing, for: service)
        case nil: health.removeStatus(for: service)
        }
    }
}

/// A meeting or operation id as plugins name them ("mtg-3", "op-2").
enum ObjectID {
    case meeting(Int64)
    case operation(Int64)

    init?(_ text: String) {
        if let id = Self.number(text, prefix: "mtg-") {
            self = .meeting(id)
        } else if let id = Self.number(text, prefix: "op-") {
            self = .operation(id)
        } else {
            return nil
        }
    }

    /// The row number of an id as the server writes it ("mtg-12", not "mtg-012" or "mtg-+12").
    static func number(_ text: String, prefix: String) -> Int64? {
        let digits = text.dropFirst(prefix.count)
        guard text.hasPrefix(prefix), let id = Int64(digits), id > 0, digits == String(id)[...] else { return nil }
        return id
    }
}
