/// What a party may know of an operation's records (contributions, reports, events).
///
/// Decided from the resolution: the consultations are among the Council, the Secretariat and
/// the parties II.B.3 names for the operation (contributors of any kind, potential contributors,
/// the host country) or that are invited to one of its meetings (II.B.3(c), (d), (h) as
/// appropriate). A party with none of these ties takes no part in them: it sees that the
/// operation exists (its id and name), and nothing else.
public enum OperationAccess: Sendable, Hashable {
    case council
    case secretariat
    /// Named by II.B.3 for the operation, or invited to one of its meetings.
    case party
    /// No role, contribution, standing or invitation: the operation's existence only.
    case existenceOnly
}

public enum AccessRules {
    public static func access(_ caller: Party, facts: OperationFacts, invitedToAMeeting: Bool) -> OperationAccess {
        if caller.isSecretariat { return .secretariat }
        if caller.isCouncilMember { return .council }
        if invitedToAMeeting || caller.id == facts.hostCountryID || facts.potentialContributorIDs.contains(caller.id)
            || facts.contributes(caller.id) {
            return .party
        }
        return .existenceOnly
    }

    /// A party without a part in the operation learns no more than its existence.
    /// - Parameter what: what is refused, as the method names it ("the contributions").
    public static func checkMayRead(_ what: String, access: OperationAccess, operationID: String) throws(RuleViolation) {
        guard access != .existenceOnly else {
            throw RuleViolation(.permissionDenied,
                "\(what) of operation \(operationID) are for the Council, the Secretariat and the parties taking part in its consultations (II.B.3); the caller has no role, contribution or invitation on it")
        }
    }
}

/// Who may receive an event of an operation: the same rule as the read method that shows
/// what the event tells.
public enum EventAudience: Sendable, Hashable {
    /// Anyone with access to the operation's records (GetOperation in full, ListContributions, ListReports).
    case operation
    /// The meeting's invitees, the President and the Secretariat (GetMeeting).
    case meeting(Int64)
    /// The President, the Secretariat and the requesting party (ListMeetingRequests).
    case request(requestedBy: Int64)
    /// The Council, the Secretariat and the troop-contributing countries (ListAdvice).
    case advice
    /// The Secretariat, the Council and the submitting country (ListExperience).
    case experience(submittedBy: Int64)
    /// The Council, the Secretariat and one party: a plugin's record about that party's own
    /// business (a reconnaissance visit it asked for, I.B.6).
    case councilSecretariatAnd(party: Int64)
    /// The Council, the Secretariat and the operation's contributors: a plugin's record of
    /// what went to the contributors (a Security Council mission's terms of reference, I.B.5).
    case contributors
    /// No one: an audience this version does not know (stored by a later one).
    case nobody

    /// Whether `caller`, with `access` to the operation, receives the event.
    /// - Parameter invitedTo: whether the caller is invited to a meeting.
    public func admits(_ caller: Party, access: OperationAccess, facts: OperationFacts, invitedTo: (Int64) -> Bool) -> Bool {
        guard access != .existenceOnly else { return false }
        switch self {
        case .operation: return true
        case .meeting(let id): return MeetingRules.maySee(caller, invited: invitedTo(id))
        case .request(let requestedBy): return RequestRules.visible(caller, requestedBy: requestedBy)
        case .advice: return BriefingRules.mayReadAdvice(caller, facts: facts)
        case .experience(let submittedBy): return LessonRules.seesExperience(caller, submittedBy: submittedBy)
        case .councilSecretariatAnd(let party): return caller.isCouncilMember || caller.isSecretariat || caller.id == party
        case .contributors: return caller.isCouncilMember || caller.isSecretariat || facts.contributes(caller.id)
        case .nobody: return false
        }
    }
}
