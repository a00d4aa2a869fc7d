/// Who is invited to a meeting, derived from the operation's data (II.B.3(a)-(h)).
public enum InvitationRules {
    /// The II.B.3 category of a party, from what it is and what it gives, with the reason.
    ///
    /// The precedence, once, step by step:
    /// 1. A regional or subregional organization is (g) when it contributes troops (troops,
    ///    military observers or civilian police: the preamble applies the annexes to police
    ///    alike), otherwise (h), an observer, whatever else it gives: (a), (b), (e) and (f)
    ///    name countries.
    /// 2. A Member State contributing troops, military observers or civilian police is (a),
    ///    host country or not: (a) "are invited" and take part.
    /// 3. A Member State identified by the Secretary-General as a potential contributor is (b).
    /// 4. The host country is (f), an observer, even when it also provides facilities or other
    ///    support that would make another country an (e) participant.
    /// 5. Any other Member State making a specific contribution (other civilian personnel, trust
    ///    fund, logistics, equipment, facilities, other) is (e).
    /// 6. A United Nations body or agency is (c), whatever it gives: (e) covers countries.
    /// 7. Any other body or agency is (d), an observer, whatever it gives.
    /// 8. The Secretariat takes part as itself (II.B.5, II.B.6, II.C), and a Member State with
    ///    none of these ties falls in no category.
    public static func classify(_ standing: PartyStanding) -> InvitationClassification {
        let uniformed = standing.contributions.filter(\.makesTroopOrPoliceContributor)
        let specific = standing.contributions.subtracting(uniformed)
        switch standing.kind {
        case .regionalOrganization, .subregionalOrganization:
            if !uniformed.isEmpty {
                return InvitationClassification(.regionalTroopContributor,
                    "a regional or subregional organization contributing \(ContributionKind.list(uniformed)) (II.B.3(g))")
            }
            var reason = "a regional or subregional organization not contributing troops is invited as an observer (II.B.3(h))"
            if !specific.isEmpty {
                reason += ", whatever else it gives (\(ContributionKind.list(specific))): II.B.3(e) covers countries"
            }
            if standing.isPotentialContributor {
                reason += "; identified as a potential contributor, it is II.B.3(g) once it contributes troops (II.B.3(b) covers countries)"
            }
            return InvitationClassification(.regionalObserver, reason)
        case .memberState:
            let hostNote = standing.isHostCountry ? "; it takes part as such, not only as the host country's observer (II.B.3(f))" : ""
            if !uniformed.isEmpty {
                return InvitationClassification(.troopPoliceContributor,
                    "contributes \(ContributionKind.list(uniformed)) to the operation (II.B.3(a))" + hostNote)
            }
            if standing.isPotentialContributor {
                return InvitationClassification(.potentialContributor,
                    "identified by the Secretary-General as a potential troop-contributing country (II.A.2, II.B.3(b))" + hostNote)
            }
            if standing.isHostCountry {
                var reason = "the host country is invited as an observer (II.B.3(f))"
                if !specific.isEmpty {
                    reason += ", although it also provides \(ContributionKind.list(specific)), which would make another country a participant under II.B.3(e)"
                }
                return InvitationClassification(.hostCountryObserver, reason)
            }
            if !specific.isEmpty {
                return InvitationClassification(.specificContributor,
                    "a country making specific contributions to the operation (\(ContributionKind.list(specific))) (II.B.3(e))")
            }
            return InvitationClassification(nil,
                "a Member State that contributes nothing to the operation, was not identified by the Secretary-General as a potential contributor (II.B.3(b)) and does not host it (II.B.3(f)) falls in no II.B.3 category")
        case .unBody, .unAgency:
            var reason = "a United Nations body or agency that can contribute specifically to the discussion (II.B.3(c))"
            if !standing.contributions.isEmpty {
                reason += "; what it gives (\(ContributionKind.list(standing.contributions))) does not make it a II.B.3(e) participant, which covers countries"
            }
            return InvitationClassification(.unBodyOrAgency, reason)
        case .otherBody:
            var reason = "other bodies and agencies attend as observers (II.B.3(d))"
            if !standing.contributions.isEmpty {
                reason += ", whatever they give (\(ContributionKind.list(standing.contributions))): II.B.3(e) covers countries"
            }
            return InvitationClassification(.otherBodyObserver, reason)
        case .secretariat:
            return InvitationClassification(nil,
                "the Secretariat takes part in the meetings as itself (II.B.5, II.B.6, II.C), not under II.B.3")
        case .plugin:
            return InvitationClassification(nil,
                "a mechanism plugin's principal acts for the Secretariat in its mechanism and is no party to the consultations (II.B.3 names none)")
        }
    }

    /// The invitations a meeting of `form` on an operation gets: required ones, the ones the
    /// convener may add "as appropriate", and the parties that cannot be invited, with why.
    /// Administrators are never invited, nor those who only operate the server, nor parties that act
    /// for the Secretariat without being it (a mechanism plugin's principal): they are no party to
    /// the consultations (`Party.takesPartInConsultations`).
    public static func propose(form: MeetingForm, facts: OperationFacts, parties: [Party]) -> InvitationProposal {
        var proposal = InvitationProposal()
        for party in parties.sorted(by: { $0.id < $1.id }) where party.takesPartInConsultations {
            if party.isCouncilMember, let invitation = councilInvitation(party, form: form) {
                proposal.add(invitation)
                continue
            }
            if party.kind == .secretariat, !party.isSecretariat {
                // The Secretariat is its staff role: an account of the Secretariat's kind without
                // it (never given it, or demoted) is not invited as the Secretariat, nor as anything.
                proposal.excluded.append(InvitationExclusion(partyID: party.id,
                    reason: "a Secretariat account without the SECRETARIAT_STAFF role is not the Secretariat, and takes part in no consultation"))
                continue
            }
            if party.kind == .secretariat {
                // The Secretariat briefs and assists in every form (II.B.5, II.B.6, II.C).
                proposal.add(ProposedInvitation(partyID: party.id, category: .secretariat, role: .participant,
                                                required: form != .otherConsultation,
                                                reason: "the Secretariat briefs and assists in every form of consultation (II.B.5, II.B.6, II.C)"))
                continue
            }
            if party.isSecretariat { continue }
            guard form != .councilConsultations else {
                proposal.excluded.append(InvitationExclusion(partyID: party.id,
                    reason: "the Council members' own informal consultations are for the Council and the Secretariat (II.B.5(b), II.B.6)"))
                continue
            }
            let classification = classify(facts.standing(of: party))
            if classification.category == nil, form == .otherConsultation, party.kind == .memberState {
                // II.D reaches past II.B.3: "as appropriate, other particularly affected
                // countries, including countries of the region"; which ones, the convener judges.
                proposal.add(ProposedInvitation(partyID: party.id, category: .particularlyAffectedCountry, role: .participant,
                                                required: false, reason: particularlyAffectedReason(classification)))
                continue
            }
            guard let category = classification.category else {
                proposal.excluded.append(InvitationExclusion(partyID: party.id, reason: classification.reason))
                continue
            }
            proposal.add(ProposedInvitation(partyID: party.id, category: category, role: category.observerOnly ? .observer : .participant,
                                            required: isRequired(category, form: form), reason: classification.reason))
        }
        return proposal
    }

    /// Why a Member State in no II.B.3 category is offered for an II.D consultation.
    static func particularlyAffectedReason(_ classification: InvitationClassification) -> String {
        "as appropriate, other particularly affected countries, including countries of the region (II.D); \(classification.reason)"
    }

    /// The Council takes part in II.A meetings, II.B consultation meetings and its own consultations
    /// (II.B.1), and may take part in II.D; elsewhere a Council member is invited, if at all, under II.B.3.
    static func councilInvitation(_ party: Party, form: MeetingForm) -> ProposedInvitation? {
        let who = party.isPresident ? "the Council President, who convenes and chairs" : "a member of the Security Council"
        switch form {
        case .councilMeeting, .consultationMeeting, .councilConsultations:
            return ProposedInvitation(partyID: party.id, category: .council, role: .participant, required: true,
                                      reason: "\(who): the Council takes part in \(form.name) (II.B.1)")
        case .otherConsultation:
            return ProposedInvitation(partyID: party.id, category: .council, role: .participant, required: false,
                                      reason: "\(who): II.D consultation may include the Council President or members (II.D)")
        case .secretariatMeeting, .evaluation:
            return nil
        }
    }

    /// Which categories a form invites whatever the convener chooses.
    static func isRequired(_ category: InvitationCategory, form: MeetingForm) -> Bool {
        switch (form, category) {
        case (.councilMeeting, .troopPoliceContributor), (.councilMeeting, .potentialContributor),
             (.consultationMeeting, .troopPoliceContributor), (.consultationMeeting, .potentialContributor):
            true  // II.A.2 participation; II.B.3(a), (b) "are invited"
        case (.secretariatMeeting, .troopPoliceContributor), (.secretariatMeeting, .regionalTroopContributor),
             (.evaluation, .troopPoliceContributor), (.evaluation, .regionalTroopContributor):
            true  // II.C, I.B.3: meetings with the contributors
        default:
            false
        }
    }

    /// The invitations of a meeting: the required ones; those the form offers to the parties
    /// the meeting is theirs (`including`: its convener, for a Council member or the Secretariat
    /// convening an II.D consultation takes part in it, and the party whose request it answers,
    /// whose concerns are its topics, II.B.4(d)); and those of the optional ones the convener
    /// names (`additional`, with the ids as given, for messages). A party already invited is not
    /// invited twice; one that cannot be invited is refused with the reason.
    public static func choose(_ proposal: InvitationProposal, including: [Int64] = [], additional: [(id: Int64, text: String)],
                              isParty: (Int64) -> Bool, operationID: String) throws(RuleViolation) -> [ProposedInvitation] {
        var invitations = proposal.required
        for party in including where !invitations.contains(where: { $0.partyID == party }) {
            if let offer = proposal.optional.first(where: { $0.partyID == party }) { invitations.append(offer) }
        }
        for invitee in additional where !invitations.contains(where: { $0.partyID == invitee.id }) {
            if let offer = proposal.optional.first(where: { $0.partyID == invitee.id }) {
                invitations.append(offer)
                continue
            }
            guard isParty(invitee.id) else {
                throw RuleViolation(.notFound, "additional_invitee_ids: no party \(invitee.text)")
            }
            let why = proposal.excluded.first { $0.partyID == invitee.id }?.reason
                ?? "it is no party to the consultations (an administrator, or a principal acting for the Secretariat)"
            throw RuleViolation(.failedPrecondition,
                "additional_invitee_ids: \(invitee.text) cannot be invited to this meeting on operation \(operationID): \(why)")
        }
        return invitations
    }
}

/// What the II.B.3 precedence reads of one party's relation to an operation.
public struct PartyStanding: Sendable, Hashable {
    public var kind: PartyKind
    public var isHostCountry: Bool
    public var isPotentialContributor: Bool
    public var contributions: Set<ContributionKind>

    public init(kind: PartyKind, isHostCountry: Bool = false, isPotentialContributor: Bool = false,
                contributions: Set<ContributionKind> = []) {
        self.kind = kind
        self.isHostCountry = isHostCountry
        self.isPotentialContributor = isPotentialContributor
        self.contributions = contributions
    }
}

/// A party's II.B.3 category (nil when it falls in none) and why, citing the provisions.
public struct InvitationClassification: Sendable, Hashable {
    public var category: InvitationCategory?
    public var reason: String

    public init(_ category: InvitationCategory?, _ reason: String) {
        self.category = category
        self.reason = reason
    }
}

/// A party that cannot be invited to a meeting, and why.
public struct InvitationExclusion: Sendable, Hashable {
    public var partyID: Int64
    public var reason: String
}

/// The invitation list the operation's data gives for a meeting.
public struct InvitationProposal: Sendable {
    /// Must be invited.
    public var required: [ProposedInvitation] = []
    /// May be invited at the convener's choice ("as appropriate").
    public var optional: [ProposedInvitation] = []
    /// Cannot be invited, with the reason.
    public var excluded: [InvitationExclusion] = []

    mutating func add(_ invitation: ProposedInvitation) {
        if invitation.required { required.append(invitation) } else { optional.append(invitation) }
    }
}

extension OperationFacts {
    /// What `party` is to the operation, as the II.B.3 precedence reads it.
    public func standing(of party: Party) -> PartyStanding {
        PartyStanding(kind: party.kind, isHostCountry: party.id == hostCountryID,
                      isPotentialContributor: potentialContributorIDs.contains(party.id),
                      contributions: Set(contributions.filter { $0.partyID == party.id }.map(\.kind)))
    }
}
