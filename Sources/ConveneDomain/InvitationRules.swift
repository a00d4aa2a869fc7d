/// Who is invited to a meeting, derived from the operation's data (II.B.3(a)-(h)).
public enum InvitationRules {
    /// The II.B.3 category a party falls in for an operation, if any. The first that
    /// applies wins, in the order (a), (g), (b), (e), (f), (c), (d), (h).
    public static func category(of party: Party, in facts: OperationFacts) -> InvitationCategory? {
        let regional = party.kind == .regionalOrganization || party.kind == .subregionalOrganization
        if facts.contributes(party.id, where: \.makesTroopOrPoliceContributor) {
            return regional ? .regionalTroopContributor : .troopPoliceContributor  // (g) / (a)
        }
        if facts.potentialContributorIDs.contains(party.id) { return .potentialContributor }  // (b)
        if facts.contributes(party.id) { return .specificContributor }  // (e)
        if party.id == facts.hostCountryID { return .hostCountryObserver }  // (f)
        switch party.kind {
        case .unBody, .unAgency: return .unBodyOrAgency  // (c)
        case .otherBody: return .otherBodyObserver  // (d)
        case .regionalOrganization, .subregionalOrganization: return .regionalObserver  // (h)
        case .memberState, .secretariat, .plugin: return nil
        }
    }

    /// The invitations a meeting of `form` on an operation gets: required ones, and the
    /// ones the convener may add "as appropriate".
    public static func propose(form: MeetingForm, facts: OperationFacts, parties: [Party])
        -> (required: [ProposedInvitation], optional: [ProposedInvitation]) {
        var required: [ProposedInvitation] = []
        var optional: [ProposedInvitation] = []
        for party in parties.sorted(by: { $0.id < $1.id }) {
            if party.isAdministrator && party.roles.count == 1 { continue }
            if party.kind == .plugin { continue }  // a plugin's principal is never invited
            if party.isCouncilMember {
                // The Council takes part in its own meetings and in II.B consultations (II.B.1).
                let councilForms: Set<MeetingForm> = [.councilMeeting, .consultationMeeting, .councilConsultations]
                if councilForms.contains(form) {
                    required.append(ProposedInvitation(partyID: party.id, category: .council, role: .participant, required: true))
                } else if form == .otherConsultation {
                    optional.append(ProposedInvitation(partyID: party.id, category: .council, role: .participant, required: false))
                }
                continue
            }
            if party.kind == .secretariat || party.isSecretariat {
                // The Secretariat briefs and assists in every form (II.B.5, II.B.6, II.C).
                let invitation = ProposedInvitation(partyID: party.id, category: .secretariat, role: .participant,
                                                    required: form != .otherConsultation)
                if invitation.required { required.append(invitation) } else { optional.append(invitation) }
                continue
            }
            guard form != .councilConsultations, let category = category(of: party, in: facts) else { continue }
            let role: ParticipationRole = category.observerOnly ? .observer : .participant
            let mandatory: Bool
            switch (form, category) {
            case (.councilMeeting, .troopPoliceContributor), (.councilMeeting, .potentialContributor),
                 (.consultationMeeting, .troopPoliceContributor), (.consultationMeeting, .potentialContributor):
                mandatory = true  // II.A.2 participation; II.B.3(a), (b) "are invited"
            case (.secretariatMeeting, .troopPoliceContributor), (.secretariatMeeting, .regionalTroopContributor),
                 (.evaluation, .troopPoliceContributor), (.evaluation, .regionalTroopContributor):
                mandatory = true  // II.C, I.B.3: meetings with the contributors
            default:
                mandatory = false
            }
            let invitation = ProposedInvitation(partyID: party.id, category: category, role: role, required: mandatory)
            if mandatory { required.append(invitation) } else { optional.append(invitation) }
        }
        return (required, optional)
    }
}
