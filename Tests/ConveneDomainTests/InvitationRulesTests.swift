import ConveneDomain
import XCTest

/// II.B.3: the category precedence as a table over every kind of party and every kind of
/// contribution, and the invitation lists each form of meeting gets.
final class InvitationRulesTests: XCTestCase {
    /// What each kind of party is, by what it gives: nothing, then each contribution kind in
    /// `ContributionKind` order (troops, military observers, civilian police, other civilian
    /// personnel, trust fund, logistics, equipment, facilities, other). "-" falls in no category.
    static let table: [(PartyKind, host: Bool, potential: Bool, row: String)] = [
        //                                                none a-kinds     e-kinds
        (.memberState, false, false,                     "-   a a a   e e e e e e"),
        (.memberState, true, false,                      "f   a a a   f f f f f f"),  // host: (f) over (e), not over (a)
        (.memberState, false, true,                      "b   a a a   b b b b b b"),  // potential: (b) over (e)
        (.memberState, true, true,                       "b   a a a   b b b b b b"),
        (.regionalOrganization, false, false,            "h   g g g   h h h h h h"),  // (h) whatever else it gives
        (.regionalOrganization, false, true,             "h   g g g   h h h h h h"),  // (b) covers countries
        (.subregionalOrganization, false, false,         "h   g g g   h h h h h h"),
        (.unBody, false, false,                          "c   c c c   c c c c c c"),  // (e) covers countries
        (.unAgency, false, false,                        "c   c c c   c c c c c c"),
        (.otherBody, false, false,                       "d   d d d   d d d d d d"),  // (d) observers whatever they give
        (.secretariat, false, false,                     "-   - - -   - - - - - -"),
        (.plugin, false, false,                          "-   - - -   - - - - - -"),  // a plugin's principal: never invited
    ]

    static let letters: [String: InvitationCategory] = [
        "a": .troopPoliceContributor, "b": .potentialContributor, "c": .unBodyOrAgency, "d": .otherBodyObserver,
        "e": .specificContributor, "f": .hostCountryObserver, "g": .regionalTroopContributor, "h": .regionalObserver,
    ]

    func testThePrecedenceOverEveryKindOfPartyAndContribution() {
        let columns: [ContributionKind?] = [nil] + ContributionKind.allCases
        for (kind, host, potential, row) in Self.table {
            let cells = row.split(separator: " ").map(String.init)
            XCTAssertEqual(cells.count, columns.count, "a cell per column")
            for (contribution, cell) in zip(columns, cells) {
                let standing = PartyStanding(kind: kind, isHostCountry: host, isPotentialContributor: potential,
                                             contributions: contribution.map { [$0] } ?? [])
                let result = InvitationRules.classify(standing)
                XCTAssertEqual(result.category, Self.letters[cell],
                               "\(kind) host=\(host) potential=\(potential) giving \(contribution?.name ?? "nothing"): \(result.reason)")
                if let category = result.category {
                    XCTAssertTrue(result.reason.contains(category.provision), "the reason cites \(category.provision): \(result.reason)")
                }
            }
        }
        // Every kind of party has its rows.
        XCTAssertEqual(Set(Self.table.map(\.0)), Set(PartyKind.allCases))
    }

    func testTheReasonSaysWhyAnotherCategoryDoesNotApply() {
        let host = InvitationRules.classify(PartyStanding(kind: .memberState, isHostCountry: true, contributions: [.facilities, .logistics]))
        XCTAssertEqual(host.reason,
                       "the host country is invited as an observer (II.B.3(f)), although it also provides logistics and facilities, which would make another country a participant under II.B.3(e)")
        let regional = InvitationRules.classify(PartyStanding(kind: .regionalOrganization, contributions: [.logistics, .trustFund]))
        XCTAssertTrue(regional.reason.contains("II.B.3(h)") && regional.reason.contains("trust fund contributions and logistics"),
                      regional.reason)
        let agency = InvitationRules.classify(PartyStanding(kind: .unAgency, contributions: [.equipment]))
        XCTAssertTrue(agency.reason.contains("II.B.3(c)") && agency.reason.contains("II.B.3(e) participant, which covers countries"), agency.reason)
        let none = InvitationRules.classify(PartyStanding(kind: .memberState))
        XCTAssertNil(none.category)
        XCTAssertTrue(none.reason.contains("falls in no II.B.3 category"), none.reason)
        let troopsFromTheHost = InvitationRules.classify(PartyStanding(kind: .memberState, isHostCountry: true, contributions: [.troops]))
        XCTAssertTrue(troopsFromTheHost.reason.contains("II.B.3(a)") && troopsFromTheHost.reason.contains("II.B.3(f)"),
                      troopsFromTheHost.reason)
    }

    // MARK: invitation lists

    typealias P = Parties
    static let council = Party(id: 5, name: "Council member contributing troops", kind: .memberState, roles: [.councilMember])
    static let potential = Party(id: 20, name: "Potential", kind: .memberState, roles: [])
    static let host = Party(id: 21, name: "Host", kind: .memberState, roles: [])
    static let regional = Party(id: 22, name: "Regional", kind: .regionalOrganization, roles: [])
    static let ngo = Party(id: 23, name: "NGO", kind: .otherBody, roles: [])
    static let bystander = Party(id: 24, name: "Bystander", kind: .memberState, roles: [])
    static let plugin = Party(id: 25, name: "Plugin friends", kind: .otherBody, roles: [.secretariatStaff])

    static let facts = OperationFacts(hostCountryID: host.id, potentialContributorIDs: [potential.id], contributions:
        P.facts.contributions + [Contribution(partyID: council.id, kind: .troops, quantity: 300),
                                 Contribution(partyID: host.id, kind: .facilities, quantity: 4)])
    static let everyone = [P.president, P.member, P.secretariat, P.administrator, P.troops, P.observers, P.civilians, P.donor,
                           P.agency, council, potential, host, regional, ngo, bystander, plugin]

    func ids(_ invitations: [ProposedInvitation]) -> Set<Int64> { Set(invitations.map(\.partyID)) }

    func testAConsultationMeetingInvitesTheCouncilAandBAlwaysAndTheRestAsAppropriate() {
        let proposal = InvitationRules.propose(form: .consultationMeeting, facts: Self.facts, parties: Self.everyone)
        XCTAssertEqual(ids(proposal.required), [P.president.id, P.member.id, Self.council.id, P.secretariat.id, P.troops.id,
                                               P.observers.id, Self.potential.id])
        XCTAssertEqual(ids(proposal.optional), [P.civilians.id, P.donor.id, P.agency.id, Self.host.id, Self.regional.id, Self.ngo.id])
        XCTAssertEqual(ids(proposal.optional.filter { $0.role == .observer }), [Self.host.id, Self.regional.id, Self.ngo.id],
                       "(d), (f), (h) only ever as observers")
        XCTAssertEqual(Set(proposal.excluded.map(\.partyID)), [Self.bystander.id], "no category; the administrator and a plugin's principal are no party")
        XCTAssertTrue(proposal.required.allSatisfy { !$0.reason.isEmpty } && proposal.optional.allSatisfy { !$0.reason.isEmpty })
    }

    func testAnAccountThatOnlyOperatesTheServerIsInvitedToNothingWhateverItsKind() {
        let loadTester = Party(id: 30, name: "Operator for load", kind: .secretariat, roles: [.serverOperator])
        let operatingStaff = Party(id: 31, name: "Operating staff", kind: .secretariat, roles: [.secretariatStaff, .serverOperator])
        let operatingState = Party(id: 32, name: "Operating state", kind: .memberState, roles: [.serverOperator])
        let facts = OperationFacts(hostCountryID: operatingState.id, potentialContributorIDs: [operatingState.id],
                                   contributions: Self.facts.contributions + [Contribution(partyID: operatingState.id, kind: .troops, quantity: 10)])
        for form in MeetingForm.allCases {
            let proposal = InvitationRules.propose(form: form, facts: facts, parties: Self.everyone + [loadTester, operatingStaff, operatingState])
            let offered = ids(proposal.required + proposal.optional)
            XCTAssertFalse(offered.contains(loadTester.id), "\(form): an operator's account is no party")
            XCTAssertFalse(offered.contains(operatingState.id), "\(form): an operator's account is no party, whatever it is said to give")
            XCTAssertEqual(offered.contains(operatingStaff.id), offered.contains(P.secretariat.id),
                           "\(form): Secretariat staff who also operate the server take part as the Secretariat")
        }
        XCTAssertFalse(FriendsRules.membership(operatingState, standing: PartyStanding(kind: .memberState, contributions: [.troops])).eligible)
    }

    /// II.D reaches past II.B.3: any other Member State may be invited, as appropriate, as a
    /// particularly affected country (a country of the region); in every other form it is not.
    func testAnOtherConsultationMayIncludeOtherParticularlyAffectedCountries() {
        let other = InvitationRules.propose(form: .otherConsultation, facts: Self.facts, parties: Self.everyone)
        let offered = other.optional.first { $0.partyID == Self.bystander.id }
        XCTAssertEqual(offered?.category, .particularlyAffectedCountry)
        XCTAssertEqual(offered?.role, .participant)
        XCTAssertTrue(offered?.reason.contains("(II.D)") == true, offered?.reason ?? "")
        XCTAssertNotEqual(other.optional.first { $0.partyID == Self.ngo.id }?.category, .particularlyAffectedCountry, "II.D names countries")
        // The rule a plugin asks (CONVENE_RULE_INVITATION) answers the same.
        let asked = FriendsRules.invitationProposal(Self.bystander, standing: PartyStanding(kind: .memberState, contributions: []),
                                                    form: .otherConsultation)
        XCTAssertEqual(asked.category, .particularlyAffectedCountry)
        XCTAssertEqual(asked.reason, offered?.reason)
        for form in MeetingForm.allCases where form != .otherConsultation {
            let proposal = InvitationRules.propose(form: form, facts: Self.facts, parties: Self.everyone)
            XCTAssertFalse(ids(proposal.required + proposal.optional).contains(Self.bystander.id), "\(form)")
        }
    }

    /// The Secretariat is its staff role, not its kind: an account of the Secretariat's kind
    /// without the role (never given it, or demoted) is invited to nothing, in any form.
    func testASecretariatAccountWithoutTheStaffRoleIsInvitedToNothing() {
        let roleless = Party(id: 33, name: "Secretariat account", kind: .secretariat, roles: [])
        for form in MeetingForm.allCases {
            let proposal = InvitationRules.propose(form: form, facts: Self.facts, parties: Self.everyone + [roleless])
            XCTAssertFalse(ids(proposal.required + proposal.optional).contains(roleless.id), "\(form)")
            XCTAssertTrue(proposal.excluded.first { $0.partyID == roleless.id }?.reason.contains("SECRETARIAT_STAFF") == true, "\(form)")
            XCTAssertTrue(ids(proposal.required + proposal.optional).contains(P.secretariat.id) || form == .otherConsultation, "\(form)")
        }
    }

    func testTheCouncilsOwnConsultationsAreTheCouncilsAndTheSecretariats() {
        let proposal = InvitationRules.propose(form: .councilConsultations, facts: Self.facts, parties: Self.everyone)
        XCTAssertEqual(ids(proposal.required), [P.president.id, P.member.id, Self.council.id, P.secretariat.id])
        XCTAssertTrue(proposal.optional.isEmpty)
        XCTAssertTrue(proposal.excluded.first { $0.partyID == P.troops.id }?.reason.contains("II.B.6") == true)
    }

    func testSecretariatMeetingsAreWithTheContributorsCouncilMembersIncluded() {
        let proposal = InvitationRules.propose(form: .secretariatMeeting, facts: Self.facts, parties: Self.everyone)
        XCTAssertEqual(ids(proposal.required), [P.secretariat.id, P.troops.id, P.observers.id, Self.council.id],
                       "a Council member contributing troops is invited to II.C as a contributor")
        XCTAssertEqual(proposal.required.first { $0.partyID == Self.council.id }?.category, .troopPoliceContributor)
        XCTAssertFalse(ids(proposal.required + proposal.optional).contains(P.president.id), "the Council is not a party to II.C")
    }

    func testChosenInvitees() throws {
        let proposal = InvitationRules.propose(form: .consultationMeeting, facts: Self.facts, parties: Self.everyone)
        let chosen = try InvitationRules.choose(proposal, additional: [(P.donor.id, "party-15"), (P.donor.id, "party-15"),
                                                                       (P.troops.id, "party-10")],
                                                isParty: { _ in true }, operationID: "op-1")
        XCTAssertEqual(chosen.filter { $0.partyID == P.donor.id }.count, 1, "nobody twice")
        XCTAssertEqual(chosen.count, proposal.required.count + 1)
        XCTAssertEqual(refusal { _ = try InvitationRules.choose(proposal, additional: [(99, "party-99")], isParty: { $0 != 99 },
                                                                operationID: "op-1") }?.message,
                       "additional_invitee_ids: no party party-99")
        let bystander = refusal { _ = try InvitationRules.choose(proposal, additional: [(Self.bystander.id, "party-24")],
                                                                 isParty: { _ in true }, operationID: "op-1") }
        XCTAssertEqual(bystander?.kind, .failedPrecondition)
        XCTAssertTrue(bystander?.message.hasPrefix("additional_invitee_ids: party-24 cannot be invited to this meeting on operation op-1: a Member State") == true,
                      bystander?.message ?? "")
        XCTAssertTrue(refusal { _ = try InvitationRules.choose(proposal, additional: [(Self.plugin.id, "party-25")],
                                                               isParty: { _ in true }, operationID: "op-1") }?.message
            .contains("no party to the consultations") == true)
    }

    func testTheConvenerOfAnOtherConsultationTakesPartInIt() throws {
        let proposal = InvitationRules.propose(form: .otherConsultation, facts: Self.facts, parties: Self.everyone)
        XCTAssertTrue(proposal.required.isEmpty, "II.D names no party that must be invited")
        for convener in [P.member, P.secretariat, P.president] {
            let chosen = try InvitationRules.choose(proposal, including: [convener.id], additional: [(P.troops.id, "party-10")],
                                                    isParty: { _ in true }, operationID: "op-1")
            XCTAssertEqual(ids(chosen), [convener.id, P.troops.id], "\(convener.name) convenes, so takes part")
        }
        let twice = try InvitationRules.choose(proposal, including: [P.member.id], additional: [(P.member.id, "party-2")],
                                               isParty: { _ in true }, operationID: "op-1")
        XCTAssertEqual(twice.map(\.partyID), [P.member.id], "nobody twice")
        let convening = InvitationRules.propose(form: .consultationMeeting, facts: Self.facts, parties: Self.everyone)
        XCTAssertEqual(try InvitationRules.choose(convening, including: [P.president.id], additional: [], isParty: { _ in true },
                                                  operationID: "op-1").count, convening.required.count,
                       "the President is already required in II.B")
    }
}
