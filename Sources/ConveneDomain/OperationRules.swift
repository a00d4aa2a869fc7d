/// Operations, contributions and the concerns raised about them (II.A.2, II.B.2(b), (c), (f), I.B.2).
public enum OperationRules {
    /// The Secretariat registers an operation: the Secretary-General plans it from its conception
    /// (I.A.7, II.B.2(a): planning comes before the mandate) and reports on each (I.B.2). The
    /// Council's part is the mandate, which its President records (`checkMayChangeMandate`).
    public static func checkMayRegister(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat else {
            throw RuleViolation(.permissionDenied,
                "only the Secretariat registers operations: the Secretary-General plans an operation from its conception (I.A.7, II.B.2(a)) and reports on it (I.B.2); the Council President records its mandate (UpdateMandate)")
        }
    }

    public static func checkHost(_ host: Party, field: String, id: String) throws(RuleViolation) {
        guard host.kind == .memberState else {
            throw RuleViolation(.invalidArgument, "\(field): \(id) is not a Member State; the host country is a country (II.B.3(f))")
        }
    }

    /// II.A.2, II.B.2(b), (c), (f): the President records a change, renewal or completion of the mandate.
    public static func checkMayChangeMandate(_ caller: Party) throws(RuleViolation) {
        guard caller.isPresident else {
            throw RuleViolation(.permissionDenied,
                "only the Council President records a change, renewal or completion of the mandate (II.A.2, II.B.2(b), (c), (f))")
        }
    }

    /// What a mandate update changes, by field name; refused when nothing would.
    /// - Parameter fields: each field the caller gave (name, whether it differs from the record).
    public static func changes(_ fields: [(name: String, given: Bool, differs: Bool)]) throws(RuleViolation) -> [String] {
        let given = fields.filter(\.given)
        guard !given.isEmpty else {
            throw RuleViolation(.invalidArgument,
                "nothing to change: give \(fields.map(\.name).dropLast().joined(separator: ", ")) or \(fields.last?.name ?? "")")
        }
        let changed = given.filter(\.differs).map(\.name)
        guard !changed.isEmpty else {
            let names = given.map(\.name)
            let list = names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " and " + names[names.count - 1]
            throw RuleViolation(.failedPrecondition,
                "nothing to change: \(list) \(names.count == 1 ? "is" : "are") already as given")
        }
        return changed
    }

    /// An operation moves forward through its phases, never back.
    public static func checkPhaseChange(from current: Phase, to next: Phase) throws(RuleViolation) {
        guard next >= current else {
            throw RuleViolation(.failedPrecondition,
                "phase: an operation does not go back from \(current.name) to \(next.name)")
        }
    }

    /// Contributors are identified and their contributions recorded for a new or ongoing
    /// operation (II.A.2, II.B.3(a), (b)), not for one that is terminated.
    public static func checkTakesContributors(phase: Phase, operationID: String) throws(RuleViolation) {
        guard phase != .terminated else {
            throw RuleViolation(.failedPrecondition,
                "operation \(operationID) is terminated; contributors are identified and contributions recorded for a new or ongoing operation (II.A.2, II.B.3)")
        }
    }

    public static func checkMayRecordContribution(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat else {
            throw RuleViolation(.permissionDenied, "only the Secretariat records contributions to operations")
        }
    }

    /// Troops, military observers and civilian police come from countries (II.B.3(a)) and regional
    /// or subregional organizations (II.B.3(g)); the Secretariat contributes nothing.
    public static func checkMayContribute(_ party: Party, kind: ContributionKind, partyText: String) throws(RuleViolation) {
        guard party.kind != .secretariat else {
            throw RuleViolation(.invalidArgument, "party_id: the Secretariat does not contribute to operations")
        }
        guard !kind.makesTroopOrPoliceContributor || party.kind.contributesAsCountry else {
            throw RuleViolation(.invalidArgument,
                "kind: \(kind.name) come from countries (II.B.3(a)) or regional or subregional organizations (II.B.3(g)); \(partyText) (\(party.name)) is \(party.kind.name)")
        }
    }

    /// II.A.2: the Secretary-General identifies potential troop contributors: states and regional organizations.
    public static func checkMayIdentifyPotentialContributor(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat else {
            throw RuleViolation(.permissionDenied, "potential troop-contributing countries are identified by the Secretary-General (II.A.2)")
        }
    }

    public static func checkCanContributeTroops(_ party: Party) throws(RuleViolation) {
        guard party.kind.contributesAsCountry else {
            throw RuleViolation(.invalidArgument,
                "party_id: \(party.name) is \(party.kind.name), which contributes no troops; potential contributors are countries (II.A.2, II.B.3(b)) or regional organizations (II.B.3(g))")
        }
    }

    /// II.A.2, II.B.3(b): a potential contributor is a country that does not contribute
    /// personnel yet, other than the host (identified, it would be invited as a participant,
    /// where II.B.3(f) has the host observe), and it is identified once.
    public static func checkMayBeIdentified(_ party: Party, partyText: String, operationID: String, isHost: Bool,
                                            contributesPersonnel: Bool, identified: Bool) throws(RuleViolation) {
        if identified {
            throw RuleViolation(.alreadyExists, "party_id: \(partyText) (\(party.name)) is identified already as a potential contributor to \(operationID)")
        }
        if isHost || contributesPersonnel {
            let why = isHost ? "is the host country of \(operationID) (II.B.3(f))" : "contributes personnel to \(operationID) already (II.B.3(a))"
            throw RuleViolation(.failedPrecondition,
                "party_id: \(partyText) (\(party.name)) \(why); it is not identified as a potential contributor (II.B.3(b))")
        }
    }

    /// I.B.2, II.B.4(d): the Secretariat answers the concerns raised in consultations, and the
    /// Council President those raised with the Council, whose views the Council takes into account.
    public static func checkMayAnswerConcerns(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat || caller.isPresident else {
            throw RuleViolation(.permissionDenied,
                "the Secretariat or the Council President records what became of a concern of troop-contributing countries (I.B.2, II.B.4(d))")
        }
    }

    public static func checkIsConcern(_ concern: Bool, statementID: String) throws(RuleViolation) {
        guard concern else {
            throw RuleViolation(.failedPrecondition, "statement \(statementID) voices no concern (II.B.4(d)); only concerns are answered")
        }
    }

    /// A concern is answered once: the answer is part of the record of the meeting (II.B.4(d)),
    /// and a second one would replace it without a trace.
    public static func checkNotAnswered(_ response: String?, statementID: String) throws(RuleViolation) {
        guard response == nil || response?.isEmpty == true else {
            throw RuleViolation(.failedPrecondition, "statement \(statementID): its concern was answered already; an answer is not replaced")
        }
    }

    /// I.B.2: the account of consultations is for the Secretary-General's report to the Council.
    public static func checkMayReadAccount(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat || caller.isCouncilMember else {
            throw RuleViolation(.permissionDenied,
                "the account of consultations with troop-contributing countries is for the Secretary-General's reports to the Council (I.B.2)")
        }
    }
}

extension Phase {
    public var name: String {
        switch self {
        case .planning: "planning"
        case .deployed: "deployed"
        case .drawdown: "drawdown"
        case .terminated: "terminated"
        }
    }
}

extension PartyKind {
    /// What a party of this kind is, with its article: "a Member State", "a UN agency".
    public var name: String {
        switch self {
        case .memberState: "a Member State"
        case .unBody: "a United Nations body"
        case .unAgency: "a United Nations agency"
        case .regionalOrganization: "a regional organization"
        case .subregionalOrganization: "a subregional organization"
        case .secretariat: "the Secretariat"
        case .otherBody: "another body or agency"
        case .plugin: "a mechanism plugin's principal"
        }
    }
}
