/// Operations, contributions and the concerns raised about them (II.A.2, II.B.2(b), (c), (f), I.B.2).
public enum OperationRules {
    /// The Secretariat or the President registers an operation; its host is a member state.
    public static func checkMayRegister(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat || caller.isPresident else {
            throw RuleViolation(.permissionDenied, "only the Secretariat or the Council President registers operations")
        }
    }

    public static func checkHost(_ host: Party, field: String, id: String) throws(RuleViolation) {
        guard host.kind == .memberState else {
            throw RuleViolation(.invalidArgument, "\(field): \(id) is not a member state")
        }
    }

    /// II.A.2, II.B.2(b), (c), (f): the President records a change, renewal or completion of the mandate.
    public static func checkMayChangeMandate(_ caller: Party) throws(RuleViolation) {
        guard caller.isPresident else {
            throw RuleViolation(.permissionDenied,
                "only the Council President records a mandate change, renewal or completion (II.A.2, II.B.2(b), (c), (f))")
        }
    }

    /// An operation moves forward through its phases, never back.
    public static func checkPhaseChange(from current: Phase, to next: Phase) throws(RuleViolation) {
        guard next >= current else {
            throw RuleViolation(.failedPrecondition,
                "phase: an operation does not go back from \(current.rawValue) to \(next.rawValue)")
        }
    }

    public static func checkMayRecordContribution(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat else {
            throw RuleViolation(.permissionDenied, "only the Secretariat records contributions")
        }
    }

    public static func checkMayContribute(_ party: Party) throws(RuleViolation) {
        guard party.kind != .secretariat else {
            throw RuleViolation(.invalidArgument, "party_id: the Secretariat does not contribute to operations")
        }
    }

    /// II.A.2: the Secretary-General identifies potential troop contributors: states and regional organizations.
    public static func checkMayIdentifyPotentialContributor(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat else {
            throw RuleViolation(.permissionDenied, "potential contributors are identified by the Secretary-General (II.A.2)")
        }
    }

    public static func checkCanContributeTroops(_ party: Party) throws(RuleViolation) {
        let kinds: Set<PartyKind> = [.memberState, .regionalOrganization, .subregionalOrganization]
        guard kinds.contains(party.kind) else {
            throw RuleViolation(.invalidArgument, "party_id: \(party.name) cannot contribute troops")
        }
    }

    /// I.B.2: the Secretariat or the President answers the concerns raised in consultations.
    public static func checkMayAnswerConcerns(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat || caller.isPresident else {
            throw RuleViolation(.permissionDenied, "the Secretariat or the Council President answers concerns (I.B.2)")
        }
    }

    public static func checkIsConcern(_ concern: Bool, statementID: String) throws(RuleViolation) {
        guard concern else {
            throw RuleViolation(.failedPrecondition, "statement \(statementID) does not voice a concern")
        }
    }

    /// I.B.2: the account of consultations is for the Secretary-General's report to the Council.
    public static func checkMayReadAccount(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat || caller.isCouncilMember else {
            throw RuleViolation(.permissionDenied,
                "the account of consultations is for the Secretary-General's report to the Council (I.B.2)")
        }
    }
}
