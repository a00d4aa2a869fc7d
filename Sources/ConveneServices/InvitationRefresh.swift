import ConveneDomain
import ConveneStore

extension StoreWriter {
    /// The meetings still to come on an operation invite whom its data requires now, not only
    /// whom it required when they were convened: a party that becomes a contributor (II.B.3(a)),
    /// is identified as a potential one (II.B.3(b)) or joins the Council (II.B.1) after a meeting
    /// was convened is invited to it as it would have been then. Nobody is uninvited here (what an
    /// invitee was shown stays shown; but see `withdrawInvitationsOfRolesLost`), and a meeting
    /// held or past keeps its invitations: they record who was there.
    func inviteWhomTheOperationNowRequires(operation: OperationRecord, now: Int64) throws {
        let upcoming = try meetings(operationID: operation.id!).filter { $0.status == .convened && $0.scheduledAt >= now }
        guard !upcoming.isEmpty else { return }
        let facts = try facts(of: operation)
        let parties = try allParties().map(\.party)
        for meeting in upcoming {
            let proposal = InvitationRules.propose(form: meeting.form, facts: facts, parties: parties)
            for invitation in proposal.required where try self.invitation(meetingID: meeting.id!, partyID: invitation.partyID) == nil {
                try insert(InvitationRecord(meetingID: meeting.id!, invitation: invitation))
            }
        }
    }

    /// A party that lost a role (a Council seat, the Secretariat's staff) loses the invitations
    /// it held by it to the meetings still to come: it no longer reads or speaks in them. Those
    /// of meetings held or past stay (they record who was there; it speaks there no more).
    func withdrawInvitationsOfRolesLost(by party: Party, now: Int64) throws {
        let lost = InvitationCategory.heldByRole.filter { !$0.isHeld(by: party) }
        try withdrawInvitations(partyID: party.id, categories: lost.map(\.rawValue), now: now)
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
