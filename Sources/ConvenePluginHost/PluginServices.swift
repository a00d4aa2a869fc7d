import ConveneRPC

/// What the plugin host needs from the rest of the server, without knowing it: identity
/// and visibility by the server's own rules, durable plugin storage, the operation event
/// log (read for delivery, written by plugins), descriptors, and health.
/// One step of a call's listing of its plugin's committed keys (`PluginServices.storageNext`):
/// from `after` (from the start when nil) under `prefix`, it found `next` (nil: none).
public typealias StorageListing = (prefix: [UInt8], after: [UInt8]?, next: [UInt8]?)

public protocol PluginServices: Sendable {
    /// The calling party of a call's credential. Throws `RPCError(.unauthenticated)` for no
    /// credential, an unknown or a revoked one, exactly as the server's own methods do.
    /// Asynchronous: it runs in a task, and a task must not block its thread on the
    /// database (with the cooperative threads blocked, reads holding the database's
    /// connections cannot resume to give them back, and the whole server stalls).
    func authenticate(_ metadata: Metadata) async throws -> PluginCaller
    /// The caller, when `authenticate` would answer it from memory (never blocks, never
    /// reads the database); nil otherwise.
    func knownCaller(_ metadata: Metadata) -> PluginCaller?
    /// The first parts of the server's own event kinds ("meeting" of "meeting.convened"),
    /// which no plugin event's kind starts with.
    var serverEventNamespaces: Set<String> { get }
    /// Whether `caller` may see `objectID` (a meeting "mtg-N" or an operation "op-N") by the
    /// services' rules: false when it may not or when no such object exists, nil when the
    /// id is of a kind the server cannot check. A nil caller is the plugin acting for
    /// itself (an event delivery), which sees whatever exists.
    func maySee(_ caller: PluginCaller?, objectID: String) throws -> Bool?
    /// The server's rules' answer to a plugin's question (the ABI's `ask_rule`,
    /// `convene_rule_question`) about `caller` or party `partyID`, and an operation or meeting.
    /// A nil caller is the plugin acting for itself (an event delivery).
    func askRule(_ caller: PluginCaller?, question: Int32, partyID: String?, objectID: String) throws -> RuleAnswer
    /// A credential the plugin calls host services with "as the plugin": its own party,
    /// recorded on what it writes and never invited to meetings.
    func pluginCredential(plugin: String) throws -> String
    /// `token`, from `pluginCredential`, was refused (an administrator revoked it): the next
    /// `pluginCredential` issues a new one.
    func pluginCredentialRefused(plugin: String, token: String)

    /// The committed value of a key in a plugin's storage.
    func storageGet(plugin: String, key: [UInt8]) throws -> [UInt8]?
    /// The first committed key after `after` (or from the start) that starts with `prefix`.
    func storageNext(plugin: String, prefix: [UInt8], after: [UInt8]?) throws -> [UInt8]?
    /// Commits a call's writes (nil value: delete) and events in one transaction, provided
    /// every key the call read still holds the value it read, every step of a listing it made
    /// (`storageNext`) still finds the key it found, and, for an event delivery, that the
    /// plugin's event position is still `delivery.from` (it becomes `delivery.to` in the same
    /// transaction). Otherwise commits nothing and throws `PluginStorageConflict`.
    func commit(plugin: String, reads: [(key: [UInt8], value: [UInt8]?)], listings: [StorageListing],
                writes: [(key: [UInt8], value: [UInt8]?)], events: [PluginEvent], delivery: EventPositionMove?) throws

    /// The plugin's position in the operation event log (the sequence of the last event it
    /// reacted to). A plugin never seen before starts at the log's current end.
    func eventPosition(plugin: String) throws -> Int64
    /// Domain events (not plugin events) after `sequence`, in order, of the kinds given
    /// ("*" for all), at most `limit`.
    func domainEvents(after sequence: Int64, kinds: [String], limit: Int) throws -> [DomainEvent]
    /// Whether this server is the one to deliver `plugin`'s events now, holding (taking when
    /// free or expired, else renewing) the plugin's lease for `duration`. Servers sharing a
    /// store deliver each plugin's events from one server at a time; a server alone always does.
    func holdEventLease(plugin: String, for duration: Duration) throws -> Bool
    /// Gives the lease up (an unload, a shutdown) so that another server takes over at once.
    func releaseEventLease(plugin: String) throws

    /// Registers a plugin's serialized FileDescriptorSet for reflection, as the set of
    /// `plugin`, which serves `service` (replacing what it registered before).
    func registerDescriptors(_ bytes: [UInt8], plugin: String, service: String) throws
    /// Forgets what `plugin` registered (it was unloaded, or its load failed).
    func unregisterDescriptors(plugin: String)
    /// A plugin's service became serving, degraded (not serving), or gone (nil).
    func setServing(_ serving: Bool?, service: String)
}

/// The party a plugin call acts for, with its role numbers (convene.parties.v1.Role).
/// Immutable, and a class: a call hands its caller on (into its attempt, its call state)
/// at the cost of one reference, not one per field.
public final class PluginCaller: Sendable, Hashable {
    public let partyID: String
    public let roles: Set<Int32>
    /// `roles` in order, as an isolated plugin's call carries them (sorted once per caller,
    /// not once per call).
    public let sortedRoles: [Int32]

    public init(partyID: String, roles: Set<Int32>) {
        self.partyID = partyID
        self.roles = roles
        sortedRoles = roles.sorted()
    }

    public static func == (left: PluginCaller, right: PluginCaller) -> Bool {
        left.partyID == right.partyID && left.roles == right.roles
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(partyID)
        hasher.combine(roles)
    }

    /// The administrator's role (convene.parties.v1.Role ADMINISTRATOR, as `caller_has_role` numbers it).
    public static let administratorRole: Int32 = 4

    /// The administrator's credential administers parties, credentials and plugins
    /// (Docs/SERVICES.md): it calls no plugin method.
    public var isAdministrator: Bool { roles.contains(Self.administratorRole) }
}

/// The answer to a plugin's `ask_rule`: the value (negative when the rules cannot answer),
/// the provision it rests on, and why, in the resolution's words.
public struct RuleAnswer: Sendable, Equatable {
    public var value: Int32
    public var provision: String
    public var reason: String

    public init(value: Int32, provision: String, reason: String) {
        self.value = value
        self.provision = provision
        self.reason = reason
    }

    static func cannot(_ reason: String) -> RuleAnswer { RuleAnswer(value: -1, provision: "", reason: reason) }
}

/// An event a plugin emitted during a call, about a meeting ("mtg-N") or an operation ("op-N").
public struct PluginEvent: Sendable, Equatable {
    /// Whether its kind is one a plugin may emit: dot-separated words of lowercase letters,
    /// digits, "_" and "-" ("friends.group_formed"), the first not one of `reserved`, the
    /// server's own (a plugin once emitted "meeting.convened", and "bad\nkind", into WatchOperation).
    func hasPluginKind(reserved: Set<String>) -> Bool {
        let parts = kind.split(separator: ".", omittingEmptySubsequences: false)
        guard let first = parts.first, !reserved.contains(String(first)) else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }
        }
    }

    public var subjectID: String
    public var kind: String
    public var description: String
    /// Who receives it in WatchOperation, within those who may see its subject.
    public var audience: PluginEventAudience

    public init(subjectID: String, kind: String, description: String, audience: PluginEventAudience = .subject) {
        self.subjectID = subjectID
        self.kind = kind
        self.description = description
        self.audience = audience
    }
}

/// Who receives a plugin's event (`emit_event_to`): the audiences other than `.subject` are
/// for events about an operation that tell of something not every party of it may list.
public enum PluginEventAudience: Sendable, Equatable {
    /// Whoever may see its subject: the meeting, or the operation's records.
    case subject
    /// The Council, the Secretariat and one party ("party-3").
    case councilSecretariatAnd(party: String)
    /// The Council, the Secretariat and the operation's contributors.
    case contributors

    /// From the ABI's `convene_event_audience` and party id; nil for an unknown audience,
    /// or a party audience without a party.
    init?(code: Int32, partyID: String?) {
        switch code {
        case 0: self = .subject
        case 1:
            guard let partyID, !partyID.isEmpty else { return nil }
            self = .councilSecretariatAnd(party: partyID)
        case 2: self = .contributors
        default: return nil
        }
    }

    var code: Int32 {
        switch self {
        case .subject: 0
        case .councilSecretariatAnd: 1
        case .contributors: 2
        }
    }

    var partyID: String? {
        if case .councilSecretariatAnd(let party) = self { return party }
        return nil
    }
}

/// A committed domain event as plugins receive it: its place in the log, its kind, and the
/// serialized convene.consultation.v1.OperationEvent.
public struct DomainEvent: Sendable, Equatable {
    public var sequence: Int64
    public var kind: String
    public var payload: [UInt8]

    public init(sequence: Int64, kind: String, payload: [UInt8]) {
        self.sequence = sequence
        self.kind = kind
        self.payload = payload
    }
}

/// An event delivery's move of the plugin's position in the event log.
public struct EventPositionMove: Sendable, Equatable {
    public var from: Int64
    public var to: Int64

    public init(from: Int64, to: Int64) {
        self.from = from
        self.to = to
    }
}

/// A plugin call read a key that another call changed before it committed (or an event
/// delivery found the plugin's position moved).
public struct PluginStorageConflict: Error, Sendable {
    public init() {}
}
