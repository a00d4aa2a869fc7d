import ConveneDomain
import PropertyBased
import Testing

/// Invariants of the resolution's rules over random worlds: parties of every kind and role,
/// contributions, host countries, potential contributors, meetings of every form. Bounded in
/// iterations (a few hundred worlds), so the suite stays fast.
@Suite struct DomainPropertyTests {
    /// A party, the operation's ties to it, from one number (so that worlds shrink well):
    /// bits 0-2 the kind, 3-5 roles, 6-14 contributions, 15 host, 16 potential contributor.
    static func party(_ seed: Int, id: Int64) -> (Party, contributions: [Contribution], host: Bool, potential: Bool) {
        let kind = PartyKind.allCases[seed % PartyKind.allCases.count]
        var roles = Set(Role.allCases.filter { seed >> 3 & (1 << ($0.rawValue - 1)) != 0 && $0 != .councilPresident })
        if (try? PartyRules.checkRoles(roles, kind: kind)) == nil { roles = [] }
        let contributions = ContributionKind.allCases.filter { seed >> 6 & (1 << ($0.rawValue - 1)) != 0 }
            .map { Contribution(partyID: id, kind: $0, quantity: 10) }
        return (Party(id: id, name: "party-\(id)", kind: kind, roles: roles), contributions, seed >> 15 & 1 == 1, seed >> 16 & 1 == 1)
    }

    /// A world: its parties (the first member state holds the presidency) and the operation's facts.
    static func world(_ seeds: [Int]) -> (parties: [Party], facts: OperationFacts) {
        var parties: [Party] = []
        var contributions: [Contribution] = []
        var host: Int64?
        var potential: Set<Int64> = []
        for (index, seed) in seeds.enumerated() {
            var (party, given, isHost, isPotential) = party(seed, id: Int64(index + 1))
            if party.kind == .memberState, !parties.contains(where: \.isPresident), party.roles.isEmpty || party.roles == [.councilMember] {
                party.roles = [.councilPresident]
            }
            parties.append(party)
            contributions += given
            if isHost, host == nil, party.kind == .memberState { host = party.id }
            if isPotential { potential.insert(party.id) }
        }
        return (parties, OperationFacts(hostCountryID: host, potentialContributorIDs: potential, contributions: contributions))
    }

    static let seeds = Gen.int(in: 0...(1 << 17 - 1)).array(of: 1...14)
    static let form = Gen<MeetingForm>.case

    @Test func noObserverEverHasAStatementAccepted() async {
        await propertyCheck(count: 300, input: Self.seeds, Self.form) { seeds, form in
            let (parties, facts) = Self.world(seeds)
            let proposal = InvitationRules.propose(form: form, facts: facts, parties: parties)
            for invitation in proposal.required + proposal.optional {
                #expect((invitation.role == .observer) == invitation.category.observerOnly,
                        "(d), (f), (h) are observers, and only they: \(invitation)")
                let party = parties.first { $0.id == invitation.partyID }!
                let accepted = (try? MeetingRules.checkMayMakeStatement(party, role: invitation.role, category: invitation.category)) != nil
                #expect(accepted == (invitation.role == .participant), "\(invitation)")
                // A party invited by a role it has since lost no longer speaks.
                var former = party
                former.roles = []
                let formerAccepted = (try? MeetingRules.checkMayMakeStatement(former, role: invitation.role, category: invitation.category)) != nil
                #expect(formerAccepted == (accepted && !InvitationCategory.heldByRole.contains(invitation.category)), "\(invitation)")
            }
            #expect((try? MeetingRules.checkMayMakeStatement(parties[0], role: nil, category: nil)) == nil, "an uninvited party does not speak")
            // Nobody is both invited and excluded, nor invited twice.
            let invited = (proposal.required + proposal.optional).map(\.partyID)
            #expect(Set(invited).count == invited.count)
            #expect(Set(invited).isDisjoint(with: proposal.excluded.map(\.partyID)))
        }
    }

    @Test func theCategoriesFollowThePartysKind() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...(1 << 17 - 1))) { seed in
            let (party, given, host, potential) = Self.party(seed, id: 1)
            let standing = PartyStanding(kind: party.kind, isHostCountry: host, isPotentialContributor: potential,
                                         contributions: Set(given.map(\.kind)))
            let category = InvitationRules.classify(standing).category
            switch party.kind {
            case .memberState:
                #expect(category.map { [.troopPoliceContributor, .potentialContributor, .specificContributor, .hostCountryObserver].contains($0) } ?? true)
                if host && !standing.contributions.contains(where: \.makesTroopOrPoliceContributor) && !potential {
                    #expect(category == .hostCountryObserver, "the host country is (f) whatever support it gives")
                }
            case .regionalOrganization, .subregionalOrganization:
                #expect(category == (standing.contributions.contains(where: \.makesTroopOrPoliceContributor) ? .regionalTroopContributor : .regionalObserver))
            case .unBody, .unAgency: #expect(category == .unBodyOrAgency)
            case .otherBody: #expect(category == .otherBodyObserver)
            case .secretariat, .plugin: #expect(category == nil)
            }
        }
    }

    /// One President whatever sequence of registrations, role changes and handovers the rules allow.
    @Test func oneCouncilPresidentAfterAnySequence() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...Int(Int32.max)).array(of: 1...20)) { steps in
            var parties: [Party] = []
            for step in steps {
                let roles = Set(Role.allCases.filter { step >> 2 & (1 << ($0.rawValue - 1)) != 0 })
                let kind = PartyKind.allCases[(step >> 6) % PartyKind.allCases.count]
                let target = parties.isEmpty ? nil : (step >> 9) % parties.count
                let holder = parties.first(where: \.isPresident)
                switch (step % 3, target) {
                case (0, _), (_, nil):  // RegisterParty
                    guard (try? PartyRules.checkRoles(roles, kind: kind)) != nil,
                          (try? PartyRules.checkPresidency(roles: roles, holder: holder)) != nil else { continue }
                    parties.append(Party(id: Int64(parties.count + 1), name: "p\(parties.count + 1)", kind: kind, roles: roles))
                case (1, let index?):  // SetRoles
                    let party = parties[index]
                    guard (try? PartyRules.checkRoles(roles, kind: party.kind)) != nil,
                          (try? PartyRules.checkPresidency(roles: roles, holder: holder?.id == party.id ? nil : holder)) != nil
                    else { continue }
                    parties[index].roles = roles
                case (_, let index?):  // PassPresidency
                    guard (try? PartyRules.checkMayReceivePresidency(parties[index], partyText: "p")) != nil else { continue }
                    if let old = parties.firstIndex(where: \.isPresident) {
                        parties[old].roles.remove(.councilPresident)
                        parties[old].roles.insert(.councilMember)
                    }
                    parties[index].roles.remove(.councilMember)
                    parties[index].roles.insert(.councilPresident)
                }
                #expect(parties.filter(\.isPresident).count <= 1)
                #expect(parties.allSatisfy { !$0.isAdministrator || $0.roles.count == 1 }, "administration stays a role of its own")
            }
        }
    }

    /// No meeting reaches a party that is not invited to it, through any rule that decides what
    /// a party sees of meetings (GetMeeting, ListMeetings, and the events of WatchOperation), the
    /// President and the Secretariat apart; and a party without access learns nothing.
    @Test func noMeetingIsVisibleToAPartyNotInvitedToIt() async {
        await propertyCheck(count: 200, input: Self.seeds, Self.form, Gen.int(in: 0...Int(Int16.max))) { seeds, form, choice in
            let (parties, facts) = Self.world(seeds)
            let proposal = InvitationRules.propose(form: form, facts: facts, parties: parties)
            let invited = Set(proposal.required.map(\.partyID)
                + proposal.optional.enumerated().filter { choice >> ($0.offset % 15) & 1 == 1 }.map(\.element.partyID))
            let meetingID: Int64 = 99
            for party in parties {
                let isInvited = invited.contains(party.id)
                let access = AccessRules.access(party, facts: facts, invitedToAMeeting: isInvited)
                let sees = EventAudience.meeting(meetingID).admits(party, access: access, facts: facts, invitedTo: { _ in isInvited })
                #expect(sees == MeetingRules.maySee(party, invited: isInvited) || access == .existenceOnly)
                if !isInvited && !MeetingRules.seesEveryMeeting(party) {
                    #expect(!sees, "\(party) is not invited to the meeting")
                }
                if access == .existenceOnly {
                    for audience in [EventAudience.operation, .meeting(meetingID), .advice, .request(requestedBy: party.id),
                                     .experience(submittedBy: party.id), .councilSecretariatAnd(party: party.id), .contributors] {
                        #expect(!audience.admits(party, access: access, facts: facts, invitedTo: { _ in false }))
                    }
                }
            }
        }
    }
}
