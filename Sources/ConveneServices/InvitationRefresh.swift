import ConveneDomain
import ConveneStore

extension StoreWriter {
    /// The meetings still to come on an operation invite whom its data requires now, not only
    /// whom it required when they were convened: a party that becomes a contributor (II.B.3(a)),
    /// is identified as a potential one (II.B.3(b)) or joins the Council (II.B.1) after a meeting
    /// was convened is invited to it as it would have been then. A party invited already in
    /// another standing (a host country or a regional organization invited to observe, II.B.3(f)
    /// and (h), that now contributes troops; an additional invitee) takes the one the meeting now
    /// requires it in, with its voice (II.B.3(a), (g)). Nobody is uninvited here (what an invitee
    /// was shown stays shown; but see `withdrawInvitationsOfRolesLost`), and a meeting held or
    /// past keeps its invitations: they record who was there.
    func inviteWhomTheOperationNowRequires(operation: OperationRecord, now: Int64) throws {
        let upcoming = try meetings(operationID: operation.id!).filter { $0.status == .convened && $0.scheduledAt >= now }
        guard !upcoming.isEmpty else { return }
        let facts = try facts(of: operation)
        let parties = try allParties().map(\.party)
        for meeting in upcoming {
            let proposal = InvitationRules.propose(form: meeting.form, facts: facts, parties: parties)
            for invitation in proposal.required {
                let required = InvitationRecord(meetingID: meeting.id!, invitation: invitation)
                guard let held = try self.invitation(meetingID: meeting.id!, partyID: invitation.partyID) else {
                    try insert(required)
                    continue
                }
                if held.category != required.category || held.role != required.role || !held.required { try update(required) }
            }
        }
    }

    /// A party that lost a role (a Council seat, the Secretariat's staff) loses the invitations
    /// it held by it to the meetings still to come: it no longer reads or speaks in them. Those
    /// of meetings held or past stay (they record who was there; it speaks there no more).
    func withdrawInvitationsOfRolesLost(by party: Party, now: Int64) throws {
        let lost = InvitationCategory.heldByRole.filter { !$0.isHeld(by: party) }
        try withdrawInvitations(partyID: party.id, categories: lost.map(\.rawValue), now: now)
        try recordOwnCategoryOfRolesLost(by: party, lost: Set(lost.map(\.rawValue)))
    }

    /// The invitations it kept (meetings held or past) in a category of a role it lost count
    /// for it no more (`MeetingRules.invitationCounts`). Where it would be invited to that
    /// meeting in a category of its own (a Council member that also contributes troops, say),
    /// that category is recorded instead: it goes on seeing the meetings it took part in as
    /// a contributor of the operation.
    private func recordOwnCategoryOfRolesLost(by party: Party, lost: Set<Int>) throws {
        guard !lost.isEmpty else { return }
        var page = Page(after: 0, size: 500)
        while true {
            let operations = try operations(page)
            for operation in operations {
                var facts: OperationFacts?
                for meeting in try meetings(operationID: operation.id!) {
                    guard let kept = try invitation(meetingID: meeting.id!, partyID: party.id), lost.contains(kept.category) else { continue }
                    let known = try facts ?? self.facts(of: operation)
                    facts = known
                    let proposal = InvitationRules.propose(form: meeting.form, facts: known, parties: [party])
                    guard let own = (proposal.required + proposal.optional).first(where: { $0.partyID == party.id }),
                          MeetingRules.invitationCounts(own.category.rawValue, for: party) else { continue }
                    try update(InvitationRecord(meetingID: meeting.id!, invitation: own))
                }
            }
            guard operations.count == page.size, let last = operations.last?.id else { return }
            page.after = last
        }
    }

    /// The same for every operation, after a party's roles changed.
    func inviteWhomEveryOperationNowRequires(now: Int64) throws {
        var page = Page(after: 0, size: 500)
        while true {
            let operations = try operations(page)
            for operation in operations { try inviteWhomTheOperationNowRequires(operation: operation, now: now) }
            guard operations.count == page.size, let last = operations.last?.id else { return }
            page.after = last
        }
    }
}
