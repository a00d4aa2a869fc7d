import ConveneDomain
import ConveneRPC
import ConveneStore

/// What the services' rules answer the mechanism plugins (the plugin ABI's `ask_rule` and
/// `caller_may_see`), so that a rule is decided once, by ConveneDomain, whether a built-in
/// service or a plugin applies it. The caller is a party's row number, or nil for the plugin
/// itself (an event delivery), which may know whatever exists.
public enum PluginRuleAnswers {
    /// The ABI's `convene_rule_question`.
    public enum Question: Int32, Sendable {
        case operationAccess = 1
        case friendsForm = 2
        case friendsMember = 3
        case invitation = 4
        case friendsMemberKinds = 5
        case country = 6
    }

    /// An answer: `value` (negative when the rules cannot answer), the provision it rests on,
    /// and why, in the resolution's words.
    public struct Answer: Sendable, Equatable {
        public var value: Int32
        public var provision: String
        public var reason: String

        public init(_ value: Int32, provision: String = "", reason: String = "") {
            self.value = value
            self.provision = provision
            self.reason = reason
        }

        static func cannot(_ reason: String) -> Answer { Answer(-1, reason: reason) }
    }

    /// The ABI's `convene_access` for an `OperationAccess`.
    static func code(_ access: OperationAccess) -> Int32 {
        switch access {
        case .existenceOnly: 1
        case .party: 2
        case .council: 3
        case .secretariat: 4
        }
    }

    static let fullAccess: Int32 = 4

    /// Whether the caller may read more of operation `operationID` than its existence (false
    /// when there is no such operation or caller).
    public static func mayReadOperation(callerID: Int64?, operationID: Int64, _ db: any StoreReader) throws -> Bool {
        guard let operation = try db.operation(id: operationID) else { return false }
        guard let callerID else { return true }
        guard let caller = try db.party(id: callerID)?.party else { return false }
        return try db.access(caller, to: operation).access != .existenceOnly
    }

    public static func answer(_ question: Int32, callerID: Int64?, partyID: String?, objectID: String,
                              _ db: any StoreReader) throws -> Answer {
        guard let question = Question(rawValue: question) else { return .cannot("unknown question \(question)") }
        let caller: Party?
        if let callerID {
            guard let party = try db.party(id: callerID)?.party else { return .cannot("no calling party") }
            caller = party
        } else {
            caller = nil
        }
        do {
            switch question {
            case .operationAccess:
                let operation = try db.requireOperation(objectID, field: "object_id")
                guard let caller else { return Answer(fullAccess, provision: "II.B.3") }
                let access = try db.access(caller, to: operation).access
                let refusal = violation { () throws(RuleViolation) in try AccessRules.checkMayRead("the records", access: access, operationID: objectID) }
                return Answer(code(access), provision: "II.B.3", reason: refusal ?? "")
            case .friendsForm:
                let operation = try db.requireOperation(objectID, field: "object_id")
                // A terminated operation: -1 with why (the plugin refuses, FAILED_PRECONDITION), to
                // whoever may read its records (its phase is theirs to know); others learn nothing new.
                if try may(caller, readOperation: operation, db), let ended = violation({ () throws(RuleViolation) in
                    try FriendsRules.checkOperationTakesGroups(phase: operation.phase, operationID: objectID)
                }) {
                    return Answer(-1, provision: "I.C.2", reason: ended)
                }
                let refusal = caller.flatMap { caller in violation { () throws(RuleViolation) in try FriendsRules.checkMayForm(caller) } }
                return Answer(refusal == nil ? 1 : 0, provision: "I.C.2", reason: refusal ?? "")
            case .friendsMember:
                guard let (party, standing) = try standing(of: partyID, on: objectID, seenBy: caller, db) else {
                    return .cannot("object_id: no operation \(objectID)")
                }
                if let refusal = violation({ () throws(RuleViolation) in try FriendsRules.checkMayBeMember(party, standing: standing, partyText: partyID ?? "") }) {
                    return Answer(0, provision: "I.C.2", reason: refusal)
                }
                return Answer(1, provision: "I.C.2", reason: FriendsRules.membership(party, standing: standing).reason)
            case .friendsMemberKinds:
                guard let (party, standing) = try standing(of: partyID, on: objectID, seenBy: caller, db) else {
                    return .cannot("object_id: no operation \(objectID)")
                }
                let kinds = FriendsRules.memberKinds(party, standing: standing)
                guard !kinds.isEmpty else {
                    return Answer(0, provision: "I.C.2", reason: FriendsRules.membership(party, standing: standing).reason)
                }
                return Answer(kinds.reduce(0) { $0 | $1.rawValue }, provision: "I.C.2",
                              reason: "\(party.name) is \(kinds.map(\.name).joined(separator: " and ")) (I.C.2)")
            case .country:
                let party = try db.requireParty(partyID ?? "", field: "party_id").party
                guard party.kind == .memberState else {
                    return Answer(0, provision: "I.B.1", reason: "\(partyID ?? "") (\(party.name)) is \(party.kind.name), not a country (a Member State)")
                }
                return Answer(1, provision: "I.B.1", reason: "\(party.name) is a Member State")
            case .invitation:
                let meetingID = try PublicID.meeting.parse(objectID, field: "object_id")
                guard let meeting = try db.meeting(id: meetingID), let operation = try db.operation(id: meeting.operationID),
                      try caller.map({ try db.maySeeMeeting(meetingID, caller: $0) }) ?? true
                else { return .cannot("object_id: no meeting \(objectID)") }
                let party = try db.requireParty(partyID ?? "", field: "party_id")
                let proposal = FriendsRules.invitationProposal(party.party, standing: try db.facts(of: operation).standing(of: party.party),
                                                               form: meeting.form)
                return Answer(proposal.category == nil ? 0 : 1, provision: proposal.category?.provision ?? "", reason: proposal.reason)
            }
        } catch let error as RPCError {
            return .cannot(error.message)
        }
    }

    /// The message of the rule `check` breaks, or nil when it holds.
    private static func violation(_ check: () throws(RuleViolation) -> Void) -> String? {
        do {
            try check()
            return nil
        } catch {
            return error.message
        }
    }

    private static func may(_ caller: Party?, readOperation operation: OperationRecord, _ db: any StoreReader) throws -> Bool {
        guard let caller else { return true }
        return try db.access(caller, to: operation).access != .existenceOnly
    }

    /// Party `partyID` and its standing on operation `objectID`, for a Group of Friends
    /// question; nil when the caller may read no more of the operation than its existence.
    private static func standing(of partyID: String?, on objectID: String, seenBy caller: Party?,
                                 _ db: any StoreReader) throws -> (Party, PartyStanding)? {
        let operation = try db.requireOperation(objectID, field: "object_id")
        guard try may(caller, readOperation: operation, db) else { return nil }
        let party = try db.requireParty(partyID ?? "", field: "party_id").party
        return (party, try db.facts(of: operation).standing(of: party))
    }
}
