/// Groups of Friends of the Secretary-General (I.C.2), for the groups-of-friends plugin to reuse.
///
/// Decided from the resolution: they are the Secretary-General's ("Groups of Friends of the
/// Secretary-General"), so the Secretariat forms them and adds their members; their members
/// "may include troop-contributing countries, Security Council members, donors and countries
/// of the region": the Council's members, the operation's contributors (countries contributing
/// personnel and donors alike; a UN body's or agency's own staff make it neither), the potential
/// contributors the Secretary-General identified, and the host country (the one country of the
/// region the records know).
public enum FriendsRules {
    public static func checkMayForm(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat else {
            throw RuleViolation(.permissionDenied,
                "Groups of Friends of the Secretary-General are formed by the Secretary-General, whose staff is the Secretariat (I.C.2)")
        }
    }

    /// A terminated operation gets no new group, member or record of coordination: its
    /// Groups of Friends worked with the Council while it was under way (I.C.2).
    public static func checkOperationTakesGroups(phase: Phase, operationID: String) throws(RuleViolation) {
        guard phase != .terminated else {
            throw RuleViolation(.failedPrecondition,
                "operation \(operationID) is terminated; its Groups of Friends worked with the Council while it was under way (I.C.2): no group is formed, member added or coordination recorded")
        }
    }

    /// Whether `party` may be a member of a group on an operation, with the reason.
    public static func membership(_ party: Party, standing: PartyStanding) -> (eligible: Bool, reason: String) {
        if !party.takesPartInConsultations {
            return (false, "an administrator, an account that only operates the server or a mechanism plugin's principal is no party to the consultations (I.C.2 names Council members, contributors, donors and countries of the region)")
        }
        if party.isCouncilMember { return (true, "a member of the Security Council (I.C.2)") }
        if party.kind == .secretariat {
            return (false, "the Secretariat forms the group; a member is a Council member, a troop-contributing country, a donor or a country of the region (I.C.2)")
        }
        if isTroopContributor(party, standing) {
            return (true, "contributes \(ContributionKind.list(standing.contributions.filter(\.isPersonnel))) to the operation: a troop-contributing country (I.C.2)")
        }
        // What a UN body or agency's own staff give is neither a country's troops nor a donation.
        let given = standing.contributions.filter { !$0.isPersonnel }
        if !given.isEmpty {
            return (true, "gives \(ContributionKind.list(given)) to the operation: a donor (I.C.2)")
        }
        if standing.isPotentialContributor {
            return (true, "identified by the Secretary-General as a potential troop contributor (II.A.2, I.C.2)")
        }
        if standing.isHostCountry { return (true, "the host country, a country of the region (I.C.2)") }
        return (false,
            "neither a Council member, nor a contributor (troops or donations), nor identified as a potential contributor, nor the host country (I.C.2)")
    }

    /// What a member of a group may be recorded as (I.C.2's "troop-contributing countries,
    /// Security Council members, donors and countries of the region"); the raw values are the
    /// bits of the plugin ABI's `convene_friends_member_kind`.
    public enum MemberKind: Int32, CaseIterable, Sendable {
        case contributor = 1, councilMember = 2, donor = 4, countryOfTheRegion = 8

        public var name: String {
            switch self {
            case .contributor: "a troop-contributing country"
            case .councilMember: "a member of the Security Council"
            case .donor: "a donor"
            case .countryOfTheRegion: "a country of the region"
            }
        }
    }

    /// Every kind of member `party` is on an operation (empty when it may not be a member): a
    /// Council member, a contributor of personnel or a potential contributor the
    /// Secretary-General identified (a troop-contributing country), a contributor of anything
    /// else (a donor), the host country (a country of the region). One party may be several.
    public static func memberKinds(_ party: Party, standing: PartyStanding) -> [MemberKind] {
        guard membership(party, standing: standing).eligible else { return [] }
        var kinds: [MemberKind] = []
        if party.isCouncilMember { kinds.append(.councilMember) }
        if isTroopContributor(party, standing) || standing.isPotentialContributor { kinds.append(.contributor) }
        if standing.contributions.contains(where: { !$0.isPersonnel }) { kinds.append(.donor) }
        if standing.isHostCountry { kinds.append(.countryOfTheRegion) }
        return kinds
    }

    /// A country (or a regional or subregional organization) contributing personnel
    /// (`OperationFacts.isTroopContributor`, from a party's standing).
    private static func isTroopContributor(_ party: Party, _ standing: PartyStanding) -> Bool {
        party.kind.contributesAsCountry && standing.contributions.contains(where: \.isPersonnel)
    }

    public static func checkMayBeMember(_ party: Party, standing: PartyStanding, partyText: String) throws(RuleViolation) {
        let (eligible, reason) = membership(party, standing: standing)
        guard eligible else {
            throw RuleViolation(.failedPrecondition, "\(partyText) (\(party.name)) cannot be a member of a Group of Friends: \(reason)")
        }
    }

    /// A member the group proposes for invitation to a meeting of `form`: its II.B.3 category,
    /// or why it cannot be invited (`category` nil).
    public static func invitationProposal(_ party: Party, standing: PartyStanding, form: MeetingForm) -> InvitationClassification {
        if party.isCouncilMember, let council = InvitationRules.councilInvitation(party, form: form) {
            return InvitationClassification(.council, council.reason)
        }
        if form == .councilConsultations {
            return InvitationClassification(nil,
                "the Council members' own informal consultations are for the Council and the Secretariat (II.B.5(b), II.B.6)")
        }
        let classification = InvitationRules.classify(standing)
        if classification.category == nil, form == .otherConsultation, standing.kind == .memberState {
            return InvitationClassification(.particularlyAffectedCountry, InvitationRules.particularlyAffectedReason(classification))
        }
        return classification
    }
}
